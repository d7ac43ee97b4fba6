/* See portowner.h. */
#include "portowner.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LISTENERS 16 /* sockets listening on one port (SO_REUSEPORT, IPv4 and IPv6) */
#define TCP_LISTEN 0x0A  /* the state column of /proc/net/tcp */

/* Adds the inodes of the sockets listening on port from one /proc/net/tcp-style table to
 * inodes[*n]. Returns -1 when the table cannot be read. */
static int listeners_in(const char *table, int port, unsigned long *inodes, int *n)
{
    FILE *f = fopen(table, "r");
    if (!f)
        return -1;
    char line[512];
    if (!fgets(line, sizeof(line), f)) { /* the header */
        fclose(f);
        return 0;
    }
    while (fgets(line, sizeof(line), f) && *n < MAX_LISTENERS) {
        /* "  0: 0100007F:1F90 00000000:0000 0A ... uid timeout inode ..." */
        char local[64];
        unsigned st, local_port;
        unsigned long inode;
        if (sscanf(line, "%*d: %63s %*s %x %*s %*s %*s %*s %*s %lu", local, &st, &inode) != 3)
            continue;
        const char *colon = strrchr(local, ':');
        if (!colon || sscanf(colon + 1, "%x", &local_port) != 1)
            continue;
        if (st == TCP_LISTEN && (int)local_port == port && inode != 0)
            inodes[(*n)++] = inode;
    }
    fclose(f);
    return 0;
}

/* The process group of pid from /proc/<pid>/stat, or -1. */
static pid_t group_of(const char *pid)
{
    char path[300], text[512];
    snprintf(path, sizeof(path), "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t len = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[len] = '\0';
    /* "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses. */
    const char *end = strrchr(text, ')');
    char state;
    int ppid, pgrp;
    if (!end || sscanf(end + 1, " %c %d %d", &state, &ppid, &pgrp) != 3)
        return -1;
    return (pid_t)pgrp;
}

/* 1 when process pid has one of the sockets inodes[0..n-1] open. */
static int holds_socket(const char *pid, const unsigned long *inodes, int n)
{
    char dir_path[300];
    snprintf(dir_path, sizeof(dir_path), "/proc/%s/fd", pid);
    DIR *d = opendir(dir_path);
    if (!d)
        return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char link_path[600], target[64];
        snprintf(link_path, sizeof(link_path), "%s/%s", dir_path, e->d_name);
        ssize_t len = readlink(link_path, target, sizeof(target) - 1);
        unsigned long inode;
        if (len <= 0)
            continue;
        target[len] = '\0';
        if (sscanf(target, "socket:[%lu]", &inode) != 1)
            continue;
        for (int i = 0; i < n && !found; i++)
            found = inodes[i] == inode;
    }
    closedir(d);
    return found;
}

int port_listened_by_group(int port, pid_t pgid)
{
    unsigned long inodes[MAX_LISTENERS];
    int n = 0;
    int v4 = listeners_in("/proc/net/tcp", port, inodes, &n);
    int v6 = listeners_in("/proc/net/tcp6", port, inodes, &n);
    if ((v4 < 0 && v6 < 0) || n == 0)
        return -1;
    DIR *proc = opendir("/proc");
    if (!proc)
        return -1;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(proc)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        if (group_of(e->d_name) == pgid)
            found = holds_socket(e->d_name, inodes, n);
    }
    closedir(proc);
    return found;
}
