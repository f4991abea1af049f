#!/bin/sh
# Regenerates the test PKI of the TLS examples and tests (OpenSSL 3):
#   ca.pem, ca.key            the test CA (valid 100 years)
#   other-ca.pem              an unrelated CA (its key is thrown away)
#   rsa.pem, rsa.key          RSA 2048, by the CA, for 10.0.0.1, 127.0.0.1, localhost
#   wrong-name.pem, .key      by the CA, for wrong.example only
#   expired.pem, .key         by the CA, valid 2000-01-01 .. 2001-01-01
#   untrusted.pem, .key       by other-ca, for 10.0.0.1, 127.0.0.1, localhost
# and the stores the examples embed:
#   examples/conduit-server/tls/server.{pem,key}  ECDSA P-256, by the CA, for 10.0.0.2, 127.0.0.1, localhost
#   examples/conduit-client/ca/ca.pem             the CA
#   examples/static-website-tls/tls/server.{pem,key}  conduit-server's chain and key
#   examples/http-fetch/ca/ca.pem                 the CA
# These are test keys, committed on purpose: nothing may trust this CA.
set -eu
cd "$(dirname "$0")"
root=../..
days=36500
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

newkey() { # ec|rsa
  if [ "$1" = ec ]; then echo "-newkey ec -pkeyopt ec_paramgen_curve:P-256"; else echo "-newkey rsa:2048"; fi
}

ca() { # NAME SUBJECT
  # shellcheck disable=SC2046
  openssl req -x509 -new $(newkey ec) -nodes -days $days -subj "/CN=$2" \
    -keyout "$1.key" -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

leaf() { # NAME ec|rsa SAN ISSUER [STARTDATE ENDDATE]
  # shellcheck disable=SC2046
  openssl req -new $(newkey "$2") -nodes -subj "/CN=$1" -keyout "$1.key" -out "$work/$1.csr" 2>/dev/null
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" "subjectAltName=$3" > "$work/ext"
  if [ $# -ge 6 ]; then
    # `openssl x509` of OpenSSL 3.0 cannot date a certificate in the past; `openssl ca` can.
    mkdir -p "$work/db" && : > "$work/db/index" && echo 01 > "$work/db/serial"
    printf '%s\n' "[ca]" "default_ca = test" "[test]" "database = $work/db/index" \
      "serial = $work/db/serial" "new_certs_dir = $work/db" "default_md = sha256" "policy = any" \
      "[any]" "commonName = supplied" > "$work/ca.cnf"
    openssl ca -batch -config "$work/ca.cnf" -cert "$4.pem" -keyfile "$4.key" -in "$work/$1.csr" \
      -startdate "$5" -enddate "$6" -extfile "$work/ext" -notext -out "$1.pem" 2>/dev/null
  else
    openssl x509 -req -in "$work/$1.csr" -CA "$4.pem" -CAkey "$4.key" -set_serial "0x$(openssl rand -hex 8)" \
      -days $days -sha256 -extfile "$work/ext" -out "$1.pem" 2>/dev/null
  fi
}

ca ca "unikc test CA"
ca other-ca "unikc other test CA"
good="IP:10.0.0.1,IP:127.0.0.1,DNS:localhost"
leaf rsa rsa "$good" ca
leaf wrong-name ec "DNS:wrong.example" ca
leaf expired ec "$good" ca 20000101000000Z 20010101000000Z
leaf untrusted ec "$good" other-ca
rm other-ca.key

mkdir -p "$root/examples/conduit-server/tls" "$root/examples/conduit-client/ca"
leaf server ec "IP:10.0.0.2,IP:127.0.0.1,DNS:localhost" ca
mv server.pem server.key "$root/examples/conduit-server/tls/"
cp ca.pem "$root/examples/conduit-client/ca/ca.pem"
mkdir -p "$root/examples/static-website-tls/tls" "$root/examples/http-fetch/ca"
cp "$root/examples/conduit-server/tls/server.pem" "$root/examples/conduit-server/tls/server.key" \
  "$root/examples/static-website-tls/tls/"
cp ca.pem "$root/examples/http-fetch/ca/ca.pem"
