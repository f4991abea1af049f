/*
 * TEST LOADER standing in for Genode's ld.lib.so and component start-up,
 * on the host: loads a genode image with the host's dynamic linker (which
 * binds its undefined solo5_* symbols to the already loaded test double
 * solo5.lib.so, by soname), and calls solo5_app_main with a command line
 * and a heap, as Genode's solo5.lib.so did; the return value is the exit
 * status. Usage: genode_test_loader [--net:NAME=TAP]... IMAGE [ARG]...
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

struct start_info { const char *cmdline; uintptr_t heap_start; size_t heap_size; };

int solo5_test_double_attach_net(const char *name, const char *tap);
void solo5_exit(int status) __attribute__((noreturn));

#define HEAP (64UL << 20)

int main(int argc, char **argv)
{
    static char cmdline[8192];
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--net:", 6) == 0; i++) {
        char name[72];
        const char *eq = strchr(argv[i] + 6, '=');
        if (!eq || (size_t)(eq - argv[i] - 6) >= sizeof name) {
            fprintf(stderr, "loader: bad %s\n", argv[i]);
            return 125;
        }
        memcpy(name, argv[i] + 6, (size_t)(eq - argv[i] - 6));
        name[eq - argv[i] - 6] = 0;
        if (solo5_test_double_attach_net(name, eq + 1) != 0) {
            fprintf(stderr, "loader: cannot attach %s\n", argv[i]);
            return 125;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "usage: %s [--net:NAME=TAP]... IMAGE [ARG]...\n", argv[0]);
        return 125;
    }
    void *image = dlopen(argv[i], RTLD_NOW | RTLD_LOCAL);
    if (!image) {
        fprintf(stderr, "loader: %s\n", dlerror());
        return 125;
    }
    int (*app_main)(const struct start_info *) =
        (int (*)(const struct start_info *))dlsym(image, "solo5_app_main");
    if (!app_main) {
        fprintf(stderr, "loader: no solo5_app_main: %s\n", dlerror());
        return 125;
    }
    for (int j = i + 1; j < argc; j++) {
        if (j > i + 1)
            strncat(cmdline, " ", sizeof cmdline - strlen(cmdline) - 1);
        strncat(cmdline, argv[j], sizeof cmdline - strlen(cmdline) - 1);
    }
    void *heap = mmap(NULL, HEAP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (heap == MAP_FAILED) {
        perror("loader: mmap");
        return 125;
    }
    struct start_info si = { cmdline, (uintptr_t)heap, HEAP };
    fflush(stdout);
    solo5_exit(app_main(&si));
}
