/*
 * test_proto.c: host-side unit test of the C reference against
 * test-vectors/vectors.json (via the generated vectors.h). Spec:
 * firmware-bridge/PROTOCOL.md.
 *
 *   ./test_proto          run all checks; exit status 0 iff all pass
 *   ./test_proto batch    line protocol on stdin/stdout used by the
 *                         TypeScript cross-check (c-reference.test.ts):
 *     E <type> <seq> <payload-hex|->             -> W <wire-hex> | X
 *     T <type> <seq> <topic-hex|-> <body-hex|->  -> W <wire-hex> | X
 *     H <seq> <id> <fw> <mfs> [cap ...]          -> W <wire-hex> | X
 *     D <wire-hex>   (bytes fed one by one to tg_rx) -> per event
 *                    F <type> <seq> <payload-hex|-> | R <status> <seq|->, then "."
 *     C <hex|->      -> 1 | 0   (tg_cbor_check)
 *     K <hex|->      -> 1 | 0   (tg_topic_valid)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tidegate_proto.h"
#include "vectors.h"

static unsigned checks, failures;

#define CHECK(cond, ...)                                                                                     \
  do {                                                                                                       \
    checks++;                                                                                                \
    if (!(cond)) {                                                                                           \
      failures++;                                                                                            \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                        \
      fprintf(stderr, __VA_ARGS__);                                                                          \
      fputc('\n', stderr);                                                                                   \
    }                                                                                                        \
  } while (0)

static int same(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
  return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static size_t unhex(const char *s, uint8_t *out, size_t cap) {
  size_t n = 0;
  if (strcmp(s, "-") == 0) return 0;
  while (s[0] && s[1] && n < cap) {
    unsigned v;
    if (sscanf(s, "%2x", &v) != 1) break;
    out[n++] = (uint8_t)v;
    s += 2;
  }
  return n;
}

static void print_hex(const uint8_t *p, size_t n) {
  size_t i;
  if (n == 0) fputc('-', stdout);
  for (i = 0; i < n; i++) printf("%02x", p[i]);
}

/* ------------------------------------------------------------ CRC, COBS */

static void test_crc(void) {
  const uint8_t check[] = "123456789";
  uint16_t c = TG_CRC16_INIT;
  size_t i;
  CHECK(tg_crc16(check, 9) == 0x29B1, "check value 0x%04x", tg_crc16(check, 9));
  CHECK(tg_crc16(check, 0) == 0xFFFF, "empty");
  for (i = 0; i < 9; i++) c = tg_crc16_update(c, check[i]);
  CHECK(c == 0x29B1, "incremental");
}

static uint32_t rng_state = 0x12345678u;
static uint32_t rng(void) { /* xorshift32 */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

static void test_cobs(void) {
  static const struct {
    const char *dec, *enc;
  } table[] = {{"", "01"},
               {"00", "0101"},
               {"0000", "010101"},
               {"00110000", "0102110101"},
               {"11223344", "0511223344"},
               {"11220033", "0311220233"},
               {"11223300", "0411223301"}};
  uint8_t dec[1200], enc[1300], back[1200];
  size_t i, n, m;
  for (i = 0; i < sizeof table / sizeof table[0]; i++) {
    size_t dn = unhex(table[i].dec[0] ? table[i].dec : "-", dec, sizeof dec);
    size_t en = unhex(table[i].enc, back, sizeof back);
    n = tg_cobs_encode(dec, dn, enc, sizeof enc);
    CHECK(same(enc, n, back, en), "cobs table %s", table[i].dec);
    CHECK(tg_cobs_decode(back, en, dec, sizeof dec, &m) == TG_OK && m == dn, "cobs decode %s", table[i].enc);
  }
  /* 254 / 255 runs */
  for (i = 0; i < 255; i++) dec[i] = (uint8_t)(i + 1 > 255 ? 1 : i + 1);
  dec[254] = 0xFF;
  n = tg_cobs_encode(dec, 254, enc, sizeof enc);
  CHECK(n == 255 && enc[0] == 0xFF, "254 run: n=%u", (unsigned)n);
  n = tg_cobs_encode(dec, 255, enc, sizeof enc);
  CHECK(n == 257 && enc[255] == 0x02 && enc[256] == 0xFF, "255 run");
  /* non-canonical trailing 01 after an FF block is accepted */
  n = tg_cobs_encode(dec, 254, enc, sizeof enc);
  enc[n] = 0x01;
  CHECK(tg_cobs_decode(enc, n + 1, back, sizeof back, &m) == TG_OK && same(back, m, dec, 254), "trailing 01");
  /* capacity */
  CHECK(tg_cobs_encode(dec, 254, enc, 254) == 0, "encode cap");
  CHECK(tg_cobs_decode(enc, n, back, 253, &m) == TG_ERR_OVERSIZE && m == 253, "decode cap");
  CHECK(tg_cobs_decode((const uint8_t *)"\x05\x11", 2, back, sizeof back, &m) == TG_ERR_COBS, "truncated");
  /* random round trips */
  for (i = 0; i < 2000; i++) {
    size_t len = rng() % 1100, k;
    uint32_t zero_mod = 1 + rng() % 64;
    for (k = 0; k < len; k++) dec[k] = (rng() % zero_mod) == 0 ? 0 : (uint8_t)(1 + rng() % 255);
    n = tg_cobs_encode(dec, len, enc, sizeof enc);
    CHECK(n > 0 && n <= TG_COBS_MAX(len) && memchr(enc, 0, n) == NULL, "encode random %u", (unsigned)i);
    CHECK(tg_cobs_decode(enc, n, back, sizeof back, &m) == TG_OK && same(back, m, dec, len), "round trip %u",
          (unsigned)i);
  }
}

/* ----------------------------------------------------------- CBOR writer */

static void test_cbor_writer(void) {
  uint8_t b[64], want[64];
  tg_cbor w;
  size_t wn;
#define CBOR_CASE(stmt, hex)                                                                                 \
  do {                                                                                                       \
    tg_cbor_init(&w, b, sizeof b);                                                                           \
    stmt;                                                                                                    \
    wn = unhex(hex, want, sizeof want);                                                                      \
    CHECK(tg_cbor_ok(&w) && same(b, w.len, want, wn), "cbor %s", #stmt);                                     \
  } while (0)
  CBOR_CASE(tg_cbor_int(&w, 0), "00");
  CBOR_CASE(tg_cbor_int(&w, 23), "17");
  CBOR_CASE(tg_cbor_int(&w, 24), "1818");
  CBOR_CASE(tg_cbor_int(&w, 255), "18ff");
  CBOR_CASE(tg_cbor_int(&w, 256), "190100");
  CBOR_CASE(tg_cbor_int(&w, 65535), "19ffff");
  CBOR_CASE(tg_cbor_int(&w, 65536), "1a00010000");
  CBOR_CASE(tg_cbor_int(&w, -1), "20");
  CBOR_CASE(tg_cbor_int(&w, -24), "37");
  CBOR_CASE(tg_cbor_int(&w, -25), "3818");
  CBOR_CASE(tg_cbor_int(&w, -100000), "3a0001869f");
  CBOR_CASE(tg_cbor_int(&w, (int32_t)(-2147483647 - 1)), "3a7fffffff");
  CBOR_CASE(tg_cbor_uint(&w, 4294967295u), "1affffffff");
  CBOR_CASE(tg_cbor_float(&w, 21.5f), "fa41ac0000");
  CBOR_CASE(tg_cbor_float(&w, -0.0f), "fa80000000");
  CBOR_CASE(tg_cbor_bool(&w, 1), "f5");
  CBOR_CASE(tg_cbor_bool(&w, 0), "f4");
  CBOR_CASE(tg_cbor_null(&w), "f6");
  CBOR_CASE(tg_cbor_text(&w, ""), "60");
  CBOR_CASE(tg_cbor_text(&w, "IETF"), "6449455446");
  CBOR_CASE(tg_cbor_bytes(&w, (const uint8_t *)"\x01\x02", 2), "420102");
  CBOR_CASE((tg_cbor_map(&w, 1), tg_cbor_text(&w, "a"), tg_cbor_array(&w, 2), tg_cbor_int(&w, 1), tg_cbor_int(&w, 2)),
            "a16161820102");
  /* overflow is sticky */
  tg_cbor_init(&w, b, 3);
  tg_cbor_text(&w, "abcdef");
  CHECK(!tg_cbor_ok(&w) && w.len == 3, "overflow");
#undef CBOR_CASE
}

/* ------------------------------------------------------------- vectors */

static void check_frame_matches(const tv_valid *v, const tg_frame *f, const char *how) {
  CHECK(f->type == v->type && f->seq == v->seq, "%s %s: type/seq %u/%u", v->name, how, f->type, f->seq);
  CHECK(same(f->payload, f->payload_len, v->payload, v->payload_len), "%s %s: payload", v->name, how);
  if (v->has_topic) {
    CHECK(same((const uint8_t *)f->topic, f->topic_len, v->topic, v->topic_len), "%s %s: topic", v->name, how);
    CHECK(same(f->body, f->body_len, v->body, v->body_len), "%s %s: body", v->name, how);
  }
  if (v->reason >= 0) CHECK(f->reason == v->reason, "%s %s: reason", v->name, how);
}

static void test_valid_vectors(void) {
  size_t i, k;
  uint8_t out[TG_MAX_WIRE], scratch[TG_MAX_FRAME], buf[TG_MAX_FRAME];
  static tg_rx rx;
  for (i = 0; i < TV_VALID_COUNT; i++) {
    const tv_valid *v = &tv_valid_vectors[i];
    tg_frame f;
    size_t n;
    int r, frames = 0;
    CHECK(tg_crc16(v->raw, v->raw_len - 2) == v->crc, "%s: crc", v->name);
    CHECK(tg_crc16(v->raw, v->raw_len) == 0, "%s: residue", v->name);
    n = tg_encode_frame(v->type, v->seq, v->payload, v->payload_len, out, sizeof out);
    CHECK(same(out, n, v->wire, v->wire_len), "%s: tg_encode_frame", v->name);
    n = tg_cobs_encode(v->raw, v->raw_len, out, sizeof out);
    CHECK(n + 1 == v->wire_len && same(out, n, v->wire, n), "%s: tg_cobs_encode", v->name);
    CHECK(tg_encode_frame(v->type, v->seq, v->payload, v->payload_len, out, v->wire_len - 1) == 0,
          "%s: encode must fail one byte short", v->name);
    if (v->has_topic) {
      n = tg_encode_topic_frame_n(v->type, v->seq, (const char *)v->topic, v->topic_len, v->body, v->body_len, out,
                                  sizeof out);
      CHECK(same(out, n, v->wire, v->wire_len), "%s: tg_encode_topic_frame_n", v->name);
    }
    if (v->type == TG_ACK) CHECK(same(out, tg_encode_ack(v->seq, out, sizeof out), v->wire, v->wire_len), "%s", v->name);
    if (v->type == TG_NACK)
      CHECK(same(out, tg_encode_nack(v->seq, (uint8_t)v->reason, out, sizeof out), v->wire, v->wire_len), "%s",
            v->name);
    if (v->type == TG_HELLO) {
      n = tg_hello_payload(buf, sizeof buf, v->hello_id, v->hello_fw, v->caps, v->ncaps, v->mfs);
      CHECK(same(buf, n, v->payload, v->payload_len), "%s: tg_hello_payload", v->name);
    }
    if (v->nfields) {
      tg_cbor w;
      tg_cbor_init(&w, buf, sizeof buf);
      tg_cbor_map(&w, (uint32_t)v->nfields);
      for (k = 0; k < v->nfields; k++) {
        const tv_field *fd = &v->fields[k];
        tg_cbor_text(&w, fd->key);
        if (fd->kind == 'i') tg_cbor_int(&w, fd->i);
        if (fd->kind == 'f') tg_cbor_float(&w, fd->f);
        if (fd->kind == 't') tg_cbor_text(&w, fd->s);
        if (fd->kind == 'b') tg_cbor_bool(&w, (int)fd->i);
      }
      CHECK(tg_cbor_ok(&w) && same(buf, w.len, v->body, v->body_len), "%s: CBOR writer body", v->name);
    }
    /* decode: whole frame, raw parse, and byte by byte */
    r = tg_frame_decode(v->wire, v->wire_len, scratch, sizeof scratch, &f);
    CHECK(r == TG_OK, "%s: tg_frame_decode -> %s", v->name, tg_status_name(r));
    if (r == TG_OK) check_frame_matches(v, &f, "decode");
    r = tg_frame_parse(v->raw, v->raw_len, &f);
    CHECK(r == TG_OK, "%s: tg_frame_parse -> %s", v->name, tg_status_name(r));
    tg_rx_init(&rx);
    for (k = 0; k < v->wire_len; k++) {
      r = tg_rx_feed(&rx, v->wire[k], &f);
      if (r == TG_RX_FRAME) {
        frames++;
        check_frame_matches(v, &f, "rx");
      } else {
        CHECK(r == TG_RX_IDLE, "%s: rx -> %s", v->name, tg_status_name(r));
      }
    }
    CHECK(frames == 1, "%s: rx frames %d", v->name, frames);
  }
}

static void test_invalid_vectors(void) {
  size_t i, k;
  uint8_t scratch[TG_MAX_FRAME];
  static tg_rx rx;
  for (i = 0; i < TV_INVALID_COUNT; i++) {
    const tv_invalid *v = &tv_invalid_vectors[i];
    tg_frame f;
    int r, events = 0;
    if (!v->c_checks) continue; /* HELLO key checks are the bridge's job */
    r = tg_frame_decode(v->wire, v->wire_len, scratch, sizeof scratch, &f);
    CHECK(r == v->status, "%s: decode -> %s, want %s", v->name, tg_status_name(r), tg_status_name(v->status));
    CHECK(f.has_seq == v->has_seq && (!v->has_seq || f.seq == v->seq), "%s: seq hint", v->name);
    tg_rx_init(&rx);
    for (k = 0; k < v->wire_len; k++) {
      r = tg_rx_feed(&rx, v->wire[k], &f);
      if (r == TG_RX_IDLE) continue;
      events++;
      CHECK(r == v->status, "%s: rx -> %s, want %s", v->name, tg_status_name(r), tg_status_name(v->status));
      CHECK(f.has_seq == v->has_seq && (!v->has_seq || f.seq == v->seq), "%s: rx seq hint", v->name);
    }
    CHECK(events == 1, "%s: rx events %d", v->name, events);
  }
}

static void test_stream(void) {
  static tg_rx rx;
  size_t i, k;
  unsigned frames = 0, errors = 0, want = 0;
  tg_frame f;
  tg_rx_init(&rx);
  /* garbage with no delimiter for 3000 bytes: one oversize, then everything decodes */
  for (k = 0; k < 3000; k++) {
    int r = tg_rx_feed(&rx, (uint8_t)(1 + k % 250), &f);
    if (r != TG_RX_IDLE) errors++;
  }
  CHECK(errors == 1, "oversize reported once (%u)", errors);
  tg_rx_feed(&rx, 0, &f);
  for (i = 0; i < TV_VALID_COUNT; i++) {
    const tv_valid *v = &tv_valid_vectors[i];
    if (v->raw_len <= TG_RX_MAX) want++;
    for (k = 0; k < v->wire_len; k++) {
      int r = tg_rx_feed(&rx, v->wire[k], &f);
      if (r == TG_RX_FRAME) {
        frames++;
        check_frame_matches(v, &f, "stream");
      }
    }
  }
  CHECK(frames == want, "stream frames %u of %u", frames, want);
  /* a smaller receive limit via tg_frame_decode's scratch size */
  {
    uint8_t scratch[32];
    const tv_valid *big = &tv_valid_vectors[TV_VALID_COUNT - 1];
    for (i = 0; i < TV_VALID_COUNT; i++)
      if (tv_valid_vectors[i].raw_len > 32) big = &tv_valid_vectors[i];
    CHECK(tg_frame_decode(big->wire, big->wire_len, scratch, sizeof scratch, &f) == TG_ERR_OVERSIZE, "small scratch");
  }
  CHECK(tg_nack_for_status(TG_ERR_CRC) == TG_NACK_BAD_CRC && tg_nack_for_status(TG_ERR_COBS) == 0 &&
            tg_nack_for_status(TG_ERR_CBOR) == TG_NACK_MALFORMED,
        "nack mapping");
  CHECK(TG_NEXT_SEQ(65535u) == 0 && TG_MAX_WIRE == 516u && TG_MAX_PAYLOAD == 506u, "constants");
}

/* ------------------------------------------------------------- batch */

static int batch(void) {
  static char line[70000];
  static uint8_t a[32768], b[32768], out[TG_MAX_WIRE];
  static tg_rx rx;
  while (fgets(line, sizeof line, stdin)) {
    char *argv[16];
    int argc = 0;
    char *tok = strtok(line, " \r\n");
    while (tok && argc < 16) {
      argv[argc++] = tok;
      tok = strtok(NULL, " \r\n");
    }
    if (argc == 0) continue;
    if (argv[0][0] == 'E' && argc == 4) {
      size_t n = unhex(argv[3], a, sizeof a);
      size_t w = tg_encode_frame((uint8_t)atoi(argv[1]), (uint16_t)atol(argv[2]), a, n, out, sizeof out);
      if (w) {
        fputs("W ", stdout);
        print_hex(out, w);
        fputc('\n', stdout);
      } else {
        puts("X");
      }
    } else if (argv[0][0] == 'T' && argc == 5) {
      size_t tn = unhex(argv[3], a, sizeof a), bn = unhex(argv[4], b, sizeof b);
      size_t w = tg_encode_topic_frame_n((uint8_t)atoi(argv[1]), (uint16_t)atol(argv[2]), (const char *)a, tn, b,
                                         bn, out, sizeof out);
      if (w) {
        fputs("W ", stdout);
        print_hex(out, w);
        fputc('\n', stdout);
      } else {
        puts("X");
      }
    } else if (argv[0][0] == 'H' && argc >= 5) {
      size_t n = tg_hello_payload(a, sizeof a, argv[2], argv[3], (const char *const *)&argv[5], (size_t)(argc - 5),
                                  (uint16_t)atol(argv[4]));
      size_t w = n ? tg_encode_frame(TG_HELLO, (uint16_t)atol(argv[1]), a, n, out, sizeof out) : 0;
      if (w) {
        fputs("W ", stdout);
        print_hex(out, w);
        fputc('\n', stdout);
      } else {
        puts("X");
      }
    } else if (argv[0][0] == 'D' && argc == 2) {
      size_t n = unhex(argv[1], a, sizeof a), k;
      tg_frame f;
      tg_rx_init(&rx);
      for (k = 0; k < n; k++) {
        int r = tg_rx_feed(&rx, a[k], &f);
        if (r == TG_RX_FRAME) {
          printf("F %u %u ", f.type, f.seq);
          print_hex(f.payload, f.payload_len);
          fputc('\n', stdout);
        } else if (r < 0) {
          printf("R %s ", tg_status_name(r));
          if (f.has_seq)
            printf("%u\n", f.seq);
          else
            puts("-");
        }
      }
      puts(".");
    } else if (argv[0][0] == 'C' && argc == 2) {
      size_t n = unhex(argv[1], a, sizeof a);
      puts(tg_cbor_check(a, n) ? "1" : "0");
    } else if (argv[0][0] == 'K' && argc == 2) {
      size_t n = unhex(argv[1], a, sizeof a);
      puts(tg_topic_valid(a, n) ? "1" : "0");
    } else {
      puts("?");
    }
    fflush(stdout);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "batch") == 0) return batch();
  test_crc();
  test_cobs();
  test_cbor_writer();
  test_valid_vectors();
  test_invalid_vectors();
  test_stream();
  printf("test_proto: %u valid + %u invalid vectors, %u checks, %u failures\n", (unsigned)TV_VALID_COUNT,
         (unsigned)TV_INVALID_COUNT, checks, failures);
  return failures == 0 ? 0 : 1;
}
