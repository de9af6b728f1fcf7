// A minimal C client for `SELECT 1` at concurrency C, to ask how fast a given I/O design can be
// against MariaDB on this machine, apart from any .NET cost: C connections (connected with
// libmariadb), then raw COM_QUERY packets and answers counted by their length, nothing parsed.
//   epoll   one thread, one epoll instance, level-triggered, every answer's next query sent at once
//   epollN  N threads (EPOLL_THREADS, default 2), each with its share of the connections
//   uring   one thread, io_uring: the next query's send and its recv queued, submitted together
//           with the wait for the next completion (one system call a round)
// Prints "QUERIES_PER_SECOND CPU_US": the process's CPU (user + system) per query, timed part only.
// Usage: client MODE HOST CONCURRENCY QUERIES
#include <errno.h>
#include <liburing.h>
#include <mysql.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char query[] = "\x09\x00\x00\x00\x03SELECT 1";
#define QUERY_LENGTH 13

typedef struct { int fd, got, done; char buffer[4096]; } connection;
typedef struct { connection *all; int from, to, per; } share;

static int answer_length;

static double seconds(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static double cpu_seconds(void) {
  struct rusage u; getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

// An answer is complete when its bytes add up to the first answer's length (SELECT 1's is fixed).
static int answered(connection *c, int received) {
  c->got += received;
  if (c->got < answer_length) return 0;
  c->got = 0; c->done++;
  return 1;
}

static void *run_epoll(void *argument) {
  share *s = argument;
  long completed = 0, wanted = (long)s->per * (s->to - s->from);
  int epoll = epoll_create1(0);
  for (int i = s->from; i < s->to; i++) {
    struct epoll_event e = { .events = EPOLLIN, .data.u32 = i };
    epoll_ctl(epoll, EPOLL_CTL_ADD, s->all[i].fd, &e);
    send(s->all[i].fd, query, QUERY_LENGTH, 0);
  }
  struct epoll_event events[64];
  while (completed < wanted) {
    int n = epoll_wait(epoll, events, 64, -1);
    for (int k = 0; k < n; k++) {
      connection *c = &s->all[events[k].data.u32];
      int r = recv(c->fd, c->buffer, sizeof c->buffer, MSG_DONTWAIT);
      if (r <= 0) { if (r == 0 || errno != EAGAIN) { fprintf(stderr, "recv: %s\n", r ? strerror(errno) : "closed"); exit(1); } continue; }
      if (answered(c, r)) { completed++; if (c->done < s->per) send(c->fd, query, QUERY_LENGTH, 0); }
    }
  }
  close(epoll);
  return NULL;
}

static void queue_recv(struct io_uring *ring, connection *c, int i) {
  struct io_uring_sqe *e = io_uring_get_sqe(ring);
  io_uring_prep_recv(e, c->fd, c->buffer, sizeof c->buffer, 0);
  e->user_data = i;
}

static void queue_send(struct io_uring *ring, connection *c, int i) {
  struct io_uring_sqe *e = io_uring_get_sqe(ring);
  io_uring_prep_send(e, c->fd, query, QUERY_LENGTH, 0);
  e->user_data = (1ull << 32) | i;
  e->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

static void run_uring(connection *all, int count, int per) {
  struct io_uring ring;
  int error = io_uring_queue_init(4 * count + 8, &ring, 0);
  if (error < 0) { fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-error)); exit(1); }
  long completed = 0, wanted = (long)per * count;
  for (int i = 0; i < count; i++) { queue_send(&ring, &all[i], i); queue_recv(&ring, &all[i], i); }
  while (completed < wanted) {
    io_uring_submit_and_wait(&ring, 1);
    struct io_uring_cqe *e; unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, e) {
      seen++;
      if (e->user_data >> 32) { fprintf(stderr, "send: %s\n", strerror(-e->res)); exit(1); }
      connection *c = &all[e->user_data];
      if (e->res <= 0) { fprintf(stderr, "recv: %s\n", e->res ? strerror(-e->res) : "closed"); exit(1); }
      if (answered(c, e->res)) {
        completed++;
        if (c->done >= per) continue;
        queue_send(&ring, c, e->user_data);
      }
      queue_recv(&ring, c, e->user_data);
    }
    io_uring_cq_advance(&ring, seen);
  }
  io_uring_queue_exit(&ring);
}

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: client epoll|epollN|uring HOST CONCURRENCY QUERIES\n"); return 2; }
  const char *mode = argv[1], *host = argv[2];
  int count = atoi(argv[3]), per = atoi(argv[4]) / count;
  connection *all = calloc(count, sizeof *all);
  for (int i = 0; i < count; i++) {
    MYSQL *m = mysql_init(NULL);
    if (!mysql_real_connect(m, host, "bench", "benchpw", "bench", 3306, NULL, 0)) { fprintf(stderr, "%s\n", mysql_error(m)); return 1; }
    all[i].fd = mysql_get_socket(m);
  }
  // The answer's length, from one query sent and read whole.
  send(all[0].fd, query, QUERY_LENGTH, 0);
  for (int tries = 0; answer_length <= 0 && tries < 100; tries++) { usleep(10000); answer_length = recv(all[0].fd, all[0].buffer, sizeof all[0].buffer, MSG_DONTWAIT); }
  if (answer_length <= 0) { fprintf(stderr, "no answer to SELECT 1\n"); return 1; }
  double start = seconds(), cpu = cpu_seconds();
  if (!strcmp(mode, "uring")) {
    run_uring(all, count, per);
  } else {
    int threads = !strcmp(mode, "epoll") ? 1 : atoi(getenv("EPOLL_THREADS") ? getenv("EPOLL_THREADS") : "2");
    pthread_t thread[64]; share shares[64];
    for (int t = 0; t < threads; t++) {
      shares[t] = (share){ all, count * t / threads, count * (t + 1) / threads, per };
      pthread_create(&thread[t], NULL, run_epoll, &shares[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(thread[t], NULL);
  }
  long queries = (long)per * count;
  printf("%.0f %.1f\n", queries / (seconds() - start), (cpu_seconds() - cpu) * 1e6 / queries);
  return 0;
}
