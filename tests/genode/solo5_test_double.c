/*
 * TEST DOUBLE of Genode's solo5.lib.so, for the host: the Solo5 0.6 API
 * (solo5.h) over Linux, so that tests can load a genode image with the
 * host's dynamic linker and watch what it does. Console to stdout, clocks
 * from clock_gettime, network devices on tap interfaces, exit with
 * _exit(). It is not Genode's library and proves nothing about Genode
 * itself, only that the image uses the API as Solo5 0.6 defined it.
 *
 * Built by tests/muen_genode.rs as solo5.lib.so (soname solo5.lib.so).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

enum { SOLO5_R_OK = 0, SOLO5_R_AGAIN = 1, SOLO5_R_EINVAL = 2, SOLO5_R_EUNSPEC = 3 };
#define MAX_NETS 8
#define MTU 1500
#define HLEN 14

struct net_info { uint8_t mac[6]; size_t mtu; };
struct block_info { uint64_t capacity; uint64_t block_size; };

static struct { char name[68]; int fd; int acquired; } nets[MAX_NETS];
static int n_nets;

/* Not solo5.h: the test loader attaches `--net:NAME=TAP` here. */
int solo5_test_double_attach_net(const char *name, const char *tap)
{
    struct ifreq ifr;
    int fd;
    if (n_nets == MAX_NETS || strlen(name) >= sizeof nets[0].name)
        return -1;
    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
    if (fd < 0)
        return -1;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", tap);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        close(fd);
        return -1;
    }
    snprintf(nets[n_nets].name, sizeof nets[0].name, "%s", name);
    nets[n_nets].fd = fd;
    n_nets++;
    return 0;
}

static uint64_t now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void solo5_console_write(const char *buf, size_t size)
{
    while (size > 0) {
        ssize_t n = write(1, buf, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        size -= (size_t)n;
    }
}

uint64_t solo5_clock_monotonic(void) { return now(CLOCK_MONOTONIC); }
uint64_t solo5_clock_wall(void) { return now(CLOCK_REALTIME); }

/* Handles are index + 1, so handle 0 is never valid. */
void solo5_yield(uint64_t deadline, uint64_t *ready_set)
{
    struct pollfd p[MAX_NETS];
    uint64_t set = 0, t = now(CLOCK_MONOTONIC);
    int timeout = deadline > t ? (int)((deadline - t + 999999) / 1000000) : 0;
    for (int i = 0; i < n_nets; i++) {
        p[i].fd = nets[i].acquired ? nets[i].fd : -1;
        p[i].events = POLLIN;
        p[i].revents = 0;
    }
    if (poll(p, (nfds_t)n_nets, timeout) > 0)
        for (int i = 0; i < n_nets; i++)
            if (p[i].revents & POLLIN)
                set |= 1ULL << (i + 1);
    if (ready_set)
        *ready_set = set;
}

void solo5_exit(int status)
{
    _exit(status);
}

void solo5_abort(void)
{
    _exit(255);
}

int solo5_set_tls_base(uintptr_t base)
{
    (void)base;
    return SOLO5_R_EUNSPEC;
}

int solo5_net_acquire(const char *name, uint64_t *handle, struct net_info *info)
{
    for (int i = 0; i < n_nets; i++) {
        if (strcmp(nets[i].name, name) != 0 || nets[i].acquired)
            continue;
        nets[i].acquired = 1;
        *handle = (uint64_t)i + 1;
        const uint8_t mac[6] = {0x02, 0x00, 0x10, 0x00, 0x00, (uint8_t)(i + 2)};
        memcpy(info->mac, mac, 6);
        info->mtu = MTU;
        return SOLO5_R_OK;
    }
    return SOLO5_R_EINVAL;
}

static int net_fd(uint64_t handle)
{
    if (handle == 0 || handle > (uint64_t)n_nets || !nets[handle - 1].acquired)
        return -1;
    return nets[handle - 1].fd;
}

int solo5_net_write(uint64_t handle, const uint8_t *buf, size_t size)
{
    int fd = net_fd(handle);
    if (fd < 0 || size > MTU + HLEN)
        return SOLO5_R_EINVAL;
    return write(fd, buf, size) == (ssize_t)size ? SOLO5_R_OK : SOLO5_R_EUNSPEC;
}

int solo5_net_read(uint64_t handle, uint8_t *buf, size_t size, size_t *read_size)
{
    int fd = net_fd(handle);
    if (fd < 0 || size < MTU + HLEN)
        return SOLO5_R_EINVAL;
    ssize_t n = read(fd, buf, size);
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? SOLO5_R_AGAIN : SOLO5_R_EUNSPEC;
    *read_size = (size_t)n;
    return SOLO5_R_OK;
}

/* The double has no block devices. */
int solo5_block_acquire(const char *name, uint64_t *handle, struct block_info *info)
{
    (void)name; (void)handle; (void)info;
    return SOLO5_R_EINVAL;
}

int solo5_block_write(uint64_t h, uint64_t off, const uint8_t *buf, size_t size)
{
    (void)h; (void)off; (void)buf; (void)size;
    return SOLO5_R_EINVAL;
}

int solo5_block_read(uint64_t h, uint64_t off, uint8_t *buf, size_t size)
{
    (void)h; (void)off; (void)buf; (void)size;
    return SOLO5_R_EINVAL;
}
