/*
 * example_device.c: an example Tidegate device built on tidegate_proto.
 * Spec: firmware-bridge/PROTOCOL.md. Runs on a POSIX host so it can be
 * tried against the bridge through a PTY or a real USB-serial adapter.
 *
 *   example_device [options] <serial-path | ->     ("-": link on stdin/stdout)
 *     -b BAUD    line speed when the path is a tty (default 115200)
 *     -d ID      device id (default "example-1")
 *     -n COUNT   DATA frames to send (default 5; 0 = forever)
 *     -i MS      pause between DATA frames (default 1000)
 *     -l MS      keep serving COMMAND/PING this long after the last DATA (default 2000)
 *     -s SEQ     first sequence number (default: derived from the clock)
 *     -t MS      first ACK timeout (default 500; doubles per try, capped at 8x)
 *     -r TRIES   transmissions before the link counts as down (default 5)
 *     -B MS      first back-off after NACK busy (default 1000)
 *     -p MS      PING interval while the link is down (default 5000)
 *     -P PROBES  PINGs before giving up while the link is down (default 3)
 *
 * It sends HELLO (caps ["cmd"]), then DATA frames to "demo/reading" with a
 * CBOR map {"n": i, "t": 20.5 + i/4, "ok": bool, "unit": "C"}, waiting for
 * the ACK of each with the retransmission rules of §6 (same seq, doubling
 * timeout, NACK handling). It ACKs COMMANDs (suppressing duplicates by seq)
 * and prints them as
 *   COMMAND seq=<n> topic=<suffix> body=<cbor-hex>
 * on stdout (stderr when stdout is the link). Log lines go to stderr.
 * Exit status: 0 all DATA acknowledged, 1 usage/IO error, 2 link lost,
 * 3 a frame was rejected permanently.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "tidegate_proto.h"

static int rfd = -1, wfd = -1;
static FILE *cmd_out;
static tg_rx rx;
static uint8_t inbuf[256];
static size_t in_pos, in_len;
static int eof;

static uint16_t next_seq;
static int have_cmd_seq;
static uint16_t last_cmd_seq;

static const char *device_id = "example-1";
static unsigned ack_ms = 500, max_tries = 5, busy_ms = 1000, probe_ms = 5000, max_probes = 3;

static const char *const type_names[] = {"?", "HELLO", "DATA", "ACK", "NACK", "COMMAND", "PING", "PONG"};
static const char *tname(uint8_t t) { return t <= TG_PONG ? type_names[t] : "?"; }

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int write_all(const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(wfd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd pfd;
        pfd.fd = wfd;
        pfd.events = POLLOUT;
        poll(&pfd, 1, 100);
        continue;
      }
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static void send_wire(const uint8_t *wire, size_t n, const char *what, uint16_t seq) {
  if (n == 0 || write_all(wire, n) != 0) {
    fprintf(stderr, "example_device: cannot send %s seq=%u\n", what, seq);
    return;
  }
  fprintf(stderr, "tx %s seq=%u (%u bytes)\n", what, seq, (unsigned)n);
}

static void send_ack(uint16_t seq) {
  uint8_t w[16];
  send_wire(w, tg_encode_ack(seq, w, sizeof w), "ACK", seq);
}

static void send_nack(uint16_t seq, uint8_t reason) {
  uint8_t w[16];
  send_wire(w, tg_encode_nack(seq, reason, w, sizeof w), "NACK", seq);
}

/* A frame that is not the answer being waited for. */
static void handle_frame(const tg_frame *f) {
  switch (f->type) {
  case TG_COMMAND: {
    size_t i;
    if (have_cmd_seq && f->seq == last_cmd_seq) { /* §6.5: duplicate, ACK again */
      fprintf(stderr, "rx COMMAND seq=%u duplicate\n", f->seq);
      send_ack(f->seq);
      break;
    }
    have_cmd_seq = 1;
    last_cmd_seq = f->seq;
    fprintf(cmd_out, "COMMAND seq=%u topic=%.*s body=", f->seq, (int)f->topic_len, f->topic);
    for (i = 0; i < f->body_len; i++) fprintf(cmd_out, "%02x", f->body[i]);
    fputc('\n', cmd_out);
    fflush(cmd_out);
    send_ack(f->seq);
    break;
  }
  case TG_PING: {
    uint8_t w[16];
    send_wire(w, tg_encode_frame(TG_PONG, f->seq, 0, 0, w, sizeof w), "PONG", f->seq);
    break;
  }
  case TG_HELLO:
  case TG_DATA: /* wrong direction */
    send_nack(f->seq, TG_NACK_UNKNOWN_TYPE);
    break;
  default: /* stale ACK/NACK/PONG */
    fprintf(stderr, "rx stale %s seq=%u ignored\n", tname(f->type), f->seq);
    break;
  }
}

static void handle_error(int status, const tg_frame *f) {
  uint8_t reason = tg_nack_for_status(status);
  int crc_ok = status != TG_ERR_CRC && status != TG_ERR_OVERSIZE;
  int unsequenced =
      crc_ok && (f->type == TG_ACK || f->type == TG_NACK || f->type == TG_PING || f->type == TG_PONG);
  fprintf(stderr, "rx error %s%s\n", tg_status_name(status), f->has_seq ? "" : " (no seq)");
  /* §7: NACK when a seq is known, never NACK an unsequenced frame */
  if (reason && f->has_seq && !unsequenced) send_nack(f->seq, reason);
}

/*
 * Serves the link for up to timeout_ms. If want >= 0, returns as soon as an
 * ACK, NACK or PONG with that seq arrives: its type (NACK reason in *reason).
 * Returns 0 on timeout, -1 at end of input.
 */
static int serve(long want, uint32_t timeout_ms, uint8_t *reason) {
  uint64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    while (in_pos < in_len) {
      tg_frame f;
      int r = tg_rx_feed(&rx, inbuf[in_pos++], &f);
      if (r == TG_RX_FRAME) {
        if (want >= 0 && f.seq == (uint16_t)want &&
            (f.type == TG_ACK || f.type == TG_NACK || f.type == TG_PONG)) {
          fprintf(stderr, "rx %s seq=%u", tname(f.type), f.seq);
          if (f.type == TG_NACK) fprintf(stderr, " reason=%u", f.reason);
          fputc('\n', stderr);
          if (reason) *reason = f.reason;
          return f.type;
        }
        handle_frame(&f);
      } else if (r < 0) {
        handle_error(r, &f);
      }
    }
    if (eof) return -1;
    {
      uint64_t now = now_ms();
      struct pollfd pfd;
      int pr;
      ssize_t n;
      if (now >= deadline) return 0;
      pfd.fd = rfd;
      pfd.events = POLLIN;
      pr = poll(&pfd, 1, (int)(deadline - now));
      if (pr < 0 && errno != EINTR) return -1;
      if (pr <= 0) continue;
      n = read(rfd, inbuf, sizeof inbuf);
      if (n == 0 || (n < 0 && errno == EIO)) { /* pipe closed / PTY hung up */
        eof = 1;
        continue;
      }
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return -1;
      }
      in_pos = 0;
      in_len = (size_t)n;
    }
  }
}

static int send_hello(void);

/*
 * §6: sends one sequenced frame until it is ACKed. Returns 0 when ACKed,
 * 3 when rejected for good, 2 when the link is lost.
 */
static int send_reliable(const uint8_t *wire, size_t n, uint16_t seq, uint8_t type) {
  unsigned tries = 0, backoff = busy_ms;
  for (;;) {
    uint8_t reason = 0;
    int r;
    uint32_t timeout;
    if (tries >= max_tries) { /* §6.4: link down, probe with PING */
      unsigned probes;
      int up = 0;
      fprintf(stderr, "link down: no answer for %s seq=%u after %u tries\n", tname(type), seq, tries);
      for (probes = 0; probes < max_probes && !up; probes++) {
        uint8_t w[16];
        send_wire(w, tg_encode_frame(TG_PING, next_seq, 0, 0, w, sizeof w), "PING", next_seq);
        r = serve(next_seq, probe_ms, &reason);
        if (r < 0) return 2;
        up = r != 0;
      }
      if (!up) return 2;
      fprintf(stderr, "link up again\n");
      tries = 0;
    }
    send_wire(wire, n, tname(type), seq);
    tries++;
    timeout = ack_ms << (tries - 1 < 3 ? tries - 1 : 3); /* 1x 2x 4x 8x 8x */
    r = serve(seq, timeout, &reason);
    if (r < 0) return 2;
    if (r == TG_ACK) return 0;
    if (r == 0) {
      fprintf(stderr, "no answer for %s seq=%u within %u ms (try %u/%u)\n", tname(type), seq, (unsigned)timeout,
              tries, max_tries);
      continue;
    }
    if (r != TG_NACK) continue; /* a PONG with our seq: not an answer to this frame */
    switch (reason) {
    case TG_NACK_BAD_CRC:
    case TG_NACK_OVERSIZE:
      break; /* retransmit now; the try is counted */
    case TG_NACK_BUSY:
      fprintf(stderr, "bridge busy, backing off %u ms\n", backoff);
      tries--; /* does not count as a try */
      if (serve(-1, backoff, 0) < 0) return 2;
      backoff = backoff * 2 > 30000u ? 30000u : backoff * 2;
      break;
    case TG_NACK_NOT_HELLO:
      if (type == TG_HELLO) return 3;
      {
        int h = send_hello();
        if (h != 0) return h;
      }
      tries = 0;
      break;
    default:
      fprintf(stderr, "%s seq=%u rejected (reason %u): dropped\n", tname(type), seq, reason);
      return 3;
    }
  }
}

static int send_hello(void) {
  static const char *const caps[] = {"cmd"};
  uint8_t payload[128], wire[TG_COBS_MAX(sizeof payload + 6) + 1];
  uint16_t seq = next_seq;
  size_t n = tg_hello_payload(payload, sizeof payload, device_id, "example-1.0", caps, 1, TG_RX_MAX);
  size_t w = tg_encode_frame(TG_HELLO, seq, payload, n, wire, sizeof wire);
  if (n == 0 || w == 0) {
    fprintf(stderr, "example_device: device id too long\n");
    return 1;
  }
  next_seq = TG_NEXT_SEQ(next_seq);
  have_cmd_seq = 0; /* §6.5: a new session forgets the COMMAND seq */
  return send_reliable(wire, w, seq, TG_HELLO);
}

static int send_reading(unsigned i) {
  uint8_t body[64], wire[TG_MAX_WIRE];
  tg_cbor c;
  uint16_t seq = next_seq;
  size_t w;
  tg_cbor_init(&c, body, sizeof body);
  tg_cbor_map(&c, 4);
  tg_cbor_text(&c, "n");
  tg_cbor_uint(&c, i);
  tg_cbor_text(&c, "t");
  tg_cbor_float(&c, 20.5f + (float)i * 0.25f);
  tg_cbor_text(&c, "ok");
  tg_cbor_bool(&c, i % 2 == 0);
  tg_cbor_text(&c, "unit");
  tg_cbor_text(&c, "C");
  if (!tg_cbor_ok(&c)) return 1;
  w = tg_encode_topic_frame(TG_DATA, seq, "demo/reading", body, c.len, wire, sizeof wire);
  next_seq = TG_NEXT_SEQ(next_seq);
  return send_reliable(wire, w, seq, TG_DATA);
}

static int open_link(const char *path, long baud) {
  struct termios t;
  speed_t sp;
  if (strcmp(path, "-") == 0) {
    rfd = 0;
    wfd = 1;
    cmd_out = stderr;
    return 0;
  }
  rfd = wfd = open(path, O_RDWR | O_NOCTTY);
  if (rfd < 0) {
    perror(path);
    return -1;
  }
  cmd_out = stdout;
  if (!isatty(rfd)) return 0;
  switch (baud) {
  case 9600: sp = B9600; break;
  case 19200: sp = B19200; break;
  case 38400: sp = B38400; break;
#ifdef B57600
  case 57600: sp = B57600; break;
#endif
#ifdef B115200
  case 115200: sp = B115200; break;
#endif
  default:
    fprintf(stderr, "example_device: unsupported baud %ld\n", baud);
    return -1;
  }
  if (tcgetattr(rfd, &t) != 0) {
    perror("tcgetattr");
    return -1;
  }
  /* raw 8N1, no flow control, no echo, no line editing */
  t.c_iflag &= (tcflag_t) ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF | IXANY);
  t.c_oflag &= (tcflag_t)~OPOST;
  t.c_lflag &= (tcflag_t) ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  t.c_cflag &= (tcflag_t) ~(CSIZE | PARENB | CSTOPB);
  t.c_cflag |= CS8 | CREAD | CLOCAL;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  cfsetispeed(&t, sp);
  cfsetospeed(&t, sp);
  if (tcsetattr(rfd, TCSANOW, &t) != 0) {
    perror("tcsetattr");
    return -1;
  }
  return 0;
}

static unsigned long num(const char *s) {
  char *end;
  unsigned long v = strtoul(s, &end, 10);
  if (*s == '\0' || *end != '\0') {
    fprintf(stderr, "example_device: not a number: %s\n", s);
    exit(1);
  }
  return v;
}

int main(int argc, char **argv) {
  const char *path = 0;
  long baud = 115200;
  unsigned long count = 5, interval = 1000, linger = 2000, i;
  int seq_given = 0, rc = 0, dropped = 0, a;
  for (a = 1; a < argc; a++) {
    const char *o = argv[a];
    if (o[0] == '-' && o[1] != '\0' && o[2] == '\0' && a + 1 < argc) {
      const char *v = argv[++a];
      switch (o[1]) {
      case 'b': baud = (long)num(v); break;
      case 'd': device_id = v; break;
      case 'n': count = num(v); break;
      case 'i': interval = num(v); break;
      case 'l': linger = num(v); break;
      case 's': next_seq = (uint16_t)num(v); seq_given = 1; break;
      case 't': ack_ms = (unsigned)num(v); break;
      case 'r': max_tries = (unsigned)num(v); break;
      case 'B': busy_ms = (unsigned)num(v); break;
      case 'p': probe_ms = (unsigned)num(v); break;
      case 'P': max_probes = (unsigned)num(v); break;
      default: path = 0; a = argc; break;
      }
    } else if (!path && a == argc - 1) {
      path = o;
    } else {
      path = 0;
      break;
    }
  }
  if (!path) {
    fprintf(stderr, "usage: example_device [-b baud] [-d id] [-n count] [-i ms] [-l ms] [-s seq] [-t ms] [-r tries]"
                    " [-B ms] [-p ms] [-P probes] <serial-path | ->\n");
    return 1;
  }
  if (!seq_given) next_seq = (uint16_t)(now_ms() ^ (uint64_t)getpid());
  if (open_link(path, baud) != 0) return 1;
  tg_rx_init(&rx);
  {
    static const uint8_t flush = 0x00; /* §2: flush line noise before the first frame */
    write_all(&flush, 1);
  }
  rc = send_hello();
  for (i = 0; rc == 0 && (count == 0 || i < count); i++) {
    if (i > 0 && serve(-1, (uint32_t)interval, 0) < 0) {
      rc = 2;
      break;
    }
    rc = send_reading((unsigned)i);
    if (rc == 3) { /* rejected for good: log, go on with the next reading */
      dropped = 1;
      rc = 0;
    }
  }
  if (rc == 0 && linger > 0) serve(-1, (uint32_t)linger, 0);
  if (rc == 0 && dropped) rc = 3;
  fprintf(stderr, "example_device: done (exit %d)\n", rc);
  return rc;
}
