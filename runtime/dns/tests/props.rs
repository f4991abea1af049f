//! Property tests: the parser never panics on arbitrary bytes nor on mutated valid answers,
//! built responses parse back to what was built, and the lookup machine, fed arbitrary
//! replies, always ends within its tries.

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use unik_dns::lookup::{Config, Lookup, Step};
use unik_dns::wire::{self, Name, Qtype, Rdata, build};

fn name() -> impl Strategy<Value = Name> {
    prop::collection::vec("[a-z0-9][a-z0-9-]{0,20}", 1..5)
        .prop_map(|labels| Name::parse(&labels.join(".")).unwrap())
}

fn rdata() -> impl Strategy<Value = Rdata> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| Rdata::A(Ipv4Addr::from(b))),
        any::<[u8; 16]>().prop_map(|b| Rdata::Aaaa(Ipv6Addr::from(b))),
        name().prop_map(Rdata::Cname),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn parse_never_panics(b in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = wire::parse(&b);
    }

    #[test]
    fn mutated_answers_never_panic(
        q in name(),
        recs in prop::collection::vec((name(), any::<u32>(), rdata()), 0..6),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let query = wire::query(1, &q, Qtype::A);
        let mut m = build::response(&query, 0, false, &recs);
        for (i, v) in flips {
            let at = i.index(m.len());
            m[at] = v;
        }
        let _ = wire::parse(&m);
        let _ = wire::parse(&m[..cut.index(m.len() + 1)]);
    }

    #[test]
    fn built_responses_parse_back(
        q in name(),
        id in any::<u16>(),
        aaaa in any::<bool>(),
        rcode in 0u8..6,
        tc in any::<bool>(),
        recs in prop::collection::vec((name(), 0u32..0x8000_0000, rdata()), 0..8),
    ) {
        let qtype = if aaaa { Qtype::Aaaa } else { Qtype::A };
        let query = wire::query(id, &q, qtype);
        let r = wire::parse(&build::response(&query, rcode, tc, &recs)).unwrap();
        prop_assert_eq!(r.id, id);
        prop_assert_eq!(r.truncated, tc);
        prop_assert_eq!(r.question, Some((q, qtype.code(), 1)));
        let got: Vec<_> = r.answers.into_iter().map(|a| (a.name, a.ttl, a.data)).collect();
        prop_assert_eq!(got, recs);
    }

    #[test]
    fn lookups_end_whatever_the_replies(
        replies in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..80).prop_map(Some),
                Just(None),
            ],
            0..40,
        ),
        recs in prop::collection::vec((name(), any::<u32>(), rdata()), 0..4),
        rcode in 0u8..16,
        tc in any::<bool>(),
    ) {
        let servers = unik_dns::servers::parse("10.0.0.1,tcp:10.0.0.2").unwrap();
        let mut l = Lookup::new(Name::parse("a.example").unwrap(), Qtype::A, servers, Config::default());
        let mut step = l.start(0, 7);
        let mut id = 8u16;
        let mut replies = replies.into_iter();
        for _ in 0..200 {
            let Step::Send(req) = step else { return Ok(()) };
            let now = req.deadline_ns;
            id = id.wrapping_add(1);
            step = match replies.next() {
                // A well-formed answer to this very request (the id matches).
                Some(None) => {
                    let m = build::response(&req.message, rcode, tc, &recs);
                    l.on_reply(&m, now, id).unwrap_or_else(|| l.on_timeout(now, id))
                }
                Some(Some(junk)) => l.on_reply(&junk, now, id).unwrap_or_else(|| l.on_timeout(now, id)),
                None => l.on_timeout(now, id),
            };
        }
        prop_assert!(matches!(step, Step::Done(_)), "no end after 200 steps");
    }
}
