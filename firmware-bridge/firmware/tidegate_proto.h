/*
 * tidegate_proto.h: C99 reference implementation of the Tidegate serial
 * protocol, version 1, for firmware authors. Spec: firmware-bridge/PROTOCOL.md.
 *
 * Dependency-free (only <stddef.h>/<stdint.h>), no malloc, no recursion, no
 * floating-point maths (floats are only copied bit-for-bit). Every function
 * writes into buffers the caller provides and checks their capacity.
 *
 *   decoded frame = version(1) | type(1) | seq(2, BE) | payload | crc16(2, BE)
 *   wire          = COBS(decoded frame) | 0x00
 *
 * Typical device loop:
 *   tx: len = tg_encode_topic_frame(TG_DATA, seq, "env", body, body_len, out, sizeof out);
 *       uart_write(out, len);
 *   rx: for each received byte:  r = tg_rx_feed(&rx, byte, &frame);
 *       r == TG_RX_FRAME -> handle frame (pointers into rx, valid until next feed)
 *       r <  0           -> error (tg_status); NACK it if tg_nack_for_status(r)
 */
#ifndef TIDEGATE_PROTO_H
#define TIDEGATE_PROTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- constants (spec §3, §8) ---- */
#define TG_PROTOCOL_VERSION 1u
#define TG_HEADER_LEN 4u
#define TG_CRC_LEN 2u
#define TG_MIN_FRAME 6u   /* header + CRC, empty payload */
#define TG_MAX_FRAME 512u /* decoded bytes, header and CRC included */
#define TG_MAX_PAYLOAD (TG_MAX_FRAME - TG_MIN_FRAME) /* 506 */
/* Worst-case COBS length of n bytes (without delimiter). */
#define TG_COBS_MAX(n) ((n) + (n) / 254u + 1u)
/* Largest frame on the wire, delimiter included: 516. Size TX buffers with this. */
#define TG_MAX_WIRE (TG_COBS_MAX(TG_MAX_FRAME) + 1u)
#define TG_CBOR_MAX_DEPTH 16u

/* Receive buffer of tg_rx. A device with little RAM may define a smaller
 * value (>= 32) before including this header and announce it in HELLO "mfs". */
#ifndef TG_RX_MAX
#define TG_RX_MAX TG_MAX_FRAME
#endif

/* ---- frame types (spec §5) ---- */
enum tg_type {
  TG_HELLO = 0x01,
  TG_DATA = 0x02,
  TG_ACK = 0x03,
  TG_NACK = 0x04,
  TG_COMMAND = 0x05,
  TG_PING = 0x06,
  TG_PONG = 0x07
};

/* ---- NACK reasons (spec §5.4) ---- */
enum tg_nack {
  TG_NACK_BAD_CRC = 0x01,
  TG_NACK_OVERSIZE = 0x02,
  TG_NACK_MALFORMED = 0x03,
  TG_NACK_BAD_VERSION = 0x04,
  TG_NACK_UNKNOWN_TYPE = 0x05,
  TG_NACK_NOT_HELLO = 0x06,
  TG_NACK_BUSY = 0x07,
  TG_NACK_BAD_TOPIC = 0x08,
  TG_NACK_UNSUPPORTED = 0x09
};

/* ---- results; names match the TypeScript DecodeErrorReason (spec §7) ---- */
enum tg_status {
  TG_OK = 0,
  TG_ERR_COBS = -1,     /* "cobs": truncated block or 0x00 inside */
  TG_ERR_SHORT = -2,    /* "too-short": fewer than 6 decoded bytes */
  TG_ERR_OVERSIZE = -3, /* "oversize": more than TG_MAX_FRAME / TG_RX_MAX bytes */
  TG_ERR_CRC = -4,      /* "bad-crc" */
  TG_ERR_VERSION = -5,  /* "bad-version" */
  TG_ERR_TYPE = -6,     /* "unknown-type" */
  TG_ERR_PAYLOAD = -7,  /* "bad-payload": wrong length / layout */
  TG_ERR_TOPIC = -8,    /* "bad-topic" */
  TG_ERR_CBOR = -9,     /* "bad-cbor": body is not exactly one well-formed item */
  TG_ERR_NOSPACE = -10  /* output buffer too small / argument out of range */
};

/* Protocol timing (spec §6.2-§6.4), milliseconds. */
#define TG_ACK_TIMEOUT_MS 500u
#define TG_ACK_TIMEOUT_MAX_MS 4000u
#define TG_MAX_TRIES 5u
#define TG_BUSY_BACKOFF_MS 1000u
#define TG_BUSY_BACKOFF_MAX_MS 30000u
#define TG_LINK_PROBE_MS 5000u
#define TG_KEEPALIVE_MS 30000u

/* A parsed frame. Pointers refer into the buffer that was parsed. */
typedef struct {
  uint8_t type;
  uint16_t seq;
  uint8_t has_seq;        /* on errors: 1 if type/seq below were read (untrusted unless CRC ok) */
  const uint8_t *payload; /* payload_len bytes */
  size_t payload_len;
  const char *topic; /* DATA/COMMAND: UTF-8 suffix, NOT NUL-terminated */
  size_t topic_len;
  const uint8_t *body; /* DATA/COMMAND: CBOR body; HELLO: the CBOR map */
  size_t body_len;
  uint8_t reason; /* NACK */
} tg_frame;

/* ---- CRC-16/CCITT-FALSE (spec §4): poly 0x1021, init 0xFFFF ---- */
#define TG_CRC16_INIT 0xFFFFu
uint16_t tg_crc16_update(uint16_t crc, uint8_t byte);
uint16_t tg_crc16(const uint8_t *data, size_t len);

/* ---- COBS (spec §2) ----
 * tg_cobs_encode: canonical encoding of src into dst, NO delimiter.
 *   Returns the encoded length, or 0 if dst_cap is too small.
 * tg_cobs_decode: decodes len bytes (a single trailing 0x00 is ignored).
 *   Returns TG_OK, TG_ERR_COBS or TG_ERR_OVERSIZE (> dst_cap); *out_len is
 *   the number of bytes decoded (before the error, on errors). */
size_t tg_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap);
int tg_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap, size_t *out_len);

/* ---- frame encoding (spec §3, §5) ----
 * All return the number of bytes written to out (COBS + 0x00 delimiter),
 * or 0 on error (payload > 506 bytes, topic > 255 bytes, out too small).
 * Encoding is done on the fly; no intermediate buffer. out_cap >= TG_MAX_WIRE
 * always suffices. Content (topic rules, CBOR) is not validated here. */
size_t tg_encode_frame(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len, uint8_t *out,
                       size_t out_cap);
size_t tg_encode_topic_frame(uint8_t type, uint16_t seq, const char *topic, const uint8_t *body,
                             size_t body_len, uint8_t *out, size_t out_cap);
size_t tg_encode_topic_frame_n(uint8_t type, uint16_t seq, const char *topic, size_t topic_len,
                               const uint8_t *body, size_t body_len, uint8_t *out, size_t out_cap);
size_t tg_encode_ack(uint16_t seq, uint8_t *out, size_t out_cap);
size_t tg_encode_nack(uint16_t seq, uint8_t reason, uint8_t *out, size_t out_cap);

/* ---- frame decoding (spec §3-§5, §7) ----
 * tg_frame_parse: checks decoded (pre-COBS) bytes: length, CRC, version,
 *   type, payload (DATA/COMMAND topic + CBOR well-formedness; HELLO CBOR
 *   well-formedness only: the bridge checks the HELLO keys). Returns TG_OK
 *   or an error; f->type/seq are filled whenever 4+ bytes exist.
 * tg_frame_decode: COBS-decodes wire bytes into scratch, then parses. */
int tg_frame_parse(const uint8_t *raw, size_t len, tg_frame *f);
int tg_frame_decode(const uint8_t *wire, size_t len, uint8_t *scratch, size_t scratch_cap, tg_frame *f);

/* ---- streaming receiver (spec §2): feed every received byte ---- */
#define TG_RX_IDLE 0  /* nothing completed */
#define TG_RX_FRAME 1 /* *f holds a valid frame (pointers into rx->buf) */
typedef struct {
  uint8_t buf[TG_RX_MAX];
  uint16_t len;      /* decoded bytes */
  uint16_t seg;      /* wire bytes since the last delimiter (saturating) */
  uint8_t remaining; /* data bytes left in the current COBS block */
  uint8_t prev_code; /* previous code byte; 0xFF at frame start */
  uint8_t discarding;
} tg_rx;
void tg_rx_init(tg_rx *rx);
/* Returns TG_RX_IDLE, TG_RX_FRAME, or a negative tg_status (frame dropped;
 * f->has_seq tells whether f->seq is a usable hint for a NACK). */
int tg_rx_feed(tg_rx *rx, uint8_t byte, tg_frame *f);

/* NACK reason to answer a decode error with, or 0 if the error gets no NACK. */
uint8_t tg_nack_for_status(int status);
/* "bad-crc", ... (same strings as the TypeScript reasons); "ok" for TG_OK. */
const char *tg_status_name(int status);

/* ---- validation helpers (spec §5.2) ---- */
int tg_topic_valid(const uint8_t *s, size_t len);    /* 1 if a valid topic suffix */
int tg_cbor_check(const uint8_t *p, size_t len);     /* 1 if exactly one well-formed item */

/* ---- tiny CBOR writer (maps of ints/floats/strings/bools) ----
 * Errors are sticky: check tg_cbor_ok() (or w.err) once at the end.
 *   tg_cbor w; uint8_t b[64];
 *   tg_cbor_init(&w, b, sizeof b);
 *   tg_cbor_map(&w, 2);
 *   tg_cbor_text(&w, "t");  tg_cbor_float(&w, 21.5f);
 *   tg_cbor_text(&w, "ok"); tg_cbor_bool(&w, 1);
 *   if (tg_cbor_ok(&w)) send(b, w.len); */
typedef struct {
  uint8_t *buf;
  size_t cap;
  size_t len;
  uint8_t err;
} tg_cbor;
void tg_cbor_init(tg_cbor *w, uint8_t *buf, size_t cap);
void tg_cbor_map(tg_cbor *w, uint32_t pairs);
void tg_cbor_array(tg_cbor *w, uint32_t items);
void tg_cbor_uint(tg_cbor *w, uint32_t v);
void tg_cbor_int(tg_cbor *w, int32_t v);
void tg_cbor_float(tg_cbor *w, float v); /* always float32 (0xFA) */
void tg_cbor_bool(tg_cbor *w, int v);
void tg_cbor_null(tg_cbor *w);
void tg_cbor_text(tg_cbor *w, const char *s); /* NUL-terminated UTF-8 */
void tg_cbor_text_n(tg_cbor *w, const char *s, size_t n);
void tg_cbor_bytes(tg_cbor *w, const uint8_t *p, size_t n);
int tg_cbor_ok(const tg_cbor *w);

/* HELLO payload (spec §5.1) in the canonical key order id, fw, caps (if
 * ncaps > 0), mfs (if != 512). Returns its length, or 0 if buf is too small. */
size_t tg_hello_payload(uint8_t *buf, size_t cap, const char *id, const char *fw, const char *const *caps,
                        size_t ncaps, uint16_t mfs);

/* Sequence numbers wrap 65535 -> 0 (spec §6.1). */
#define TG_NEXT_SEQ(s) ((uint16_t)((uint16_t)(s) + 1u))

#ifdef __cplusplus
}
#endif
#endif /* TIDEGATE_PROTO_H */
