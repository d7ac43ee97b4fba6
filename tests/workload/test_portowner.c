/* port_listened_by_group (src/workload/portowner.h): the listener of a port is found among the
 * open files of its process group, and not in another group, on real loopback sockets. */
#include "portowner.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

/* A socket listening on 127.0.0.1 at a free port; *port receives the port. */
static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 4), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void own_group_holds_the_listener(void **state)
{
    (void)state;
    int port;
    int fd = listen_loopback(&port);
    assert_int_equal(port_listened_by_group(port, getpgrp()), 1);
    close(fd);
}

static void another_group_does_not(void **state)
{
    (void)state;
    int port;
    int fd = listen_loopback(&port);
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) { /* a group of its own without the socket, as a starting instance */
        setpgid(0, 0);
        close(fd);
        close(ready[0]);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    close(ready[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(port_listened_by_group(port, child), 0);
    assert_int_equal(port_listened_by_group(port, getpgrp()), 1);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    close(ready[0]);
    close(fd);
}

static void nobody_listening_cannot_be_told(void **state)
{
    (void)state;
    int port;
    close(listen_loopback(&port)); /* a port that was free a moment ago */
    assert_int_equal(port_listened_by_group(port, getpgrp()), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(own_group_holds_the_listener),
        cmocka_unit_test(another_group_does_not),
        cmocka_unit_test(nobody_listening_cannot_be_told),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
