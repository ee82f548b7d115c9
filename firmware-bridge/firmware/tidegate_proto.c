/*
 * tidegate_proto.c: C99 reference implementation of the Tidegate serial
 * protocol v1. Spec: firmware-bridge/PROTOCOL.md (section numbers below).
 * Mirrors the TypeScript codec in firmware-bridge/src/protocol/; both are checked against
 * firmware-bridge/test-vectors/vectors.json. No libc calls, no malloc, no
 * recursion.
 */
#include "tidegate_proto.h"

/* float32 bit copy below assumes IEEE-754 binary32 floats. */
typedef char tg_float_is_32_bits[(sizeof(float) == 4) ? 1 : -1];

/* ================================================================ §4 CRC */

/* Table-free byte-wise CRC-16/CCITT (poly 0x1021, MSB first): a handful of
 * shifts and XORs per byte, cheap on 8-bit cores. */
uint16_t tg_crc16_update(uint16_t crc, uint8_t byte) {
  uint8_t x = (uint8_t)((crc >> 8) ^ byte);
  x ^= (uint8_t)(x >> 4);
  return (uint16_t)((uint16_t)(crc << 8) ^ (uint16_t)((uint16_t)x << 12) ^ (uint16_t)((uint16_t)x << 5) ^ x);
}

uint16_t tg_crc16(const uint8_t *data, size_t len) {
  uint16_t crc = TG_CRC16_INIT;
  size_t i;
  for (i = 0; i < len; i++) crc = tg_crc16_update(crc, data[i]);
  return crc;
}

/* =============================================================== §2 COBS */

/* Streaming canonical COBS writer: bytes go straight into the output, so a
 * frame is encoded without an intermediate buffer. */
typedef struct {
  uint8_t *out;
  size_t cap;
  size_t len;
  size_t code_idx;
  uint8_t code;
  uint8_t full; /* current block reached 254 data bytes (code 0xFF) */
  uint8_t err;
  uint16_t crc;
} cobs_w;

static void cw_init(cobs_w *w, uint8_t *out, size_t cap) {
  w->out = out;
  w->cap = cap;
  w->len = 1;
  w->code_idx = 0;
  w->code = 1;
  w->full = 0;
  w->err = (uint8_t)(cap < 1);
  w->crc = TG_CRC16_INIT;
}

static void cw_put(cobs_w *w, uint8_t b) {
  if (w->err) return;
  if (w->full) { /* close the 0xFF block only now that more input exists */
    if (w->len >= w->cap) {
      w->err = 1;
      return;
    }
    w->out[w->code_idx] = 0xFF;
    w->code_idx = w->len++;
    w->code = 1;
    w->full = 0;
  }
  if (w->len >= w->cap) {
    w->err = 1;
    return;
  }
  if (b == 0) {
    w->out[w->code_idx] = w->code;
    w->code_idx = w->len++;
    w->code = 1;
  } else {
    w->out[w->len++] = b;
    if (++w->code == 0xFF) w->full = 1;
  }
}

/* Puts a frame byte: also runs it through the CRC. */
static void cw_put_crc(cobs_w *w, uint8_t b) {
  w->crc = tg_crc16_update(w->crc, b);
  cw_put(w, b);
}

static size_t cw_finish(cobs_w *w, int delimiter) {
  if (w->err) return 0;
  w->out[w->code_idx] = w->full ? 0xFF : w->code;
  if (delimiter) {
    if (w->len >= w->cap) return 0;
    w->out[w->len++] = 0x00;
  }
  return w->len;
}

size_t tg_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap) {
  cobs_w w;
  size_t i;
  cw_init(&w, dst, dst_cap);
  for (i = 0; i < len; i++) cw_put(&w, src[i]);
  return cw_finish(&w, 0);
}

int tg_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap, size_t *out_len) {
  size_t i = 0, n = 0;
  int r = TG_OK;
  uint8_t prev = 0xFF; /* no implicit zero before the first block */
  if (len > 0 && src[len - 1] == 0) len--;
  while (i < len && r == TG_OK) {
    uint8_t code = src[i++];
    uint8_t k;
    if (code == 0) {
      r = TG_ERR_COBS;
      break;
    }
    if (prev != 0xFF) {
      if (n >= dst_cap) {
        r = TG_ERR_OVERSIZE;
        break;
      }
      dst[n++] = 0;
    }
    for (k = (uint8_t)(code - 1); k > 0; k--) {
      if (i >= len || src[i] == 0) {
        r = TG_ERR_COBS;
        break;
      }
      if (n >= dst_cap) {
        r = TG_ERR_OVERSIZE;
        break;
      }
      dst[n++] = src[i++];
    }
    prev = code;
  }
  *out_len = n;
  return r;
}

/* ===================================================== §3/§5 frame encode */

static void put_header(cobs_w *w, uint8_t type, uint16_t seq) {
  cw_put_crc(w, TG_PROTOCOL_VERSION);
  cw_put_crc(w, type);
  cw_put_crc(w, (uint8_t)(seq >> 8));
  cw_put_crc(w, (uint8_t)seq);
}

static size_t put_trailer(cobs_w *w) {
  uint16_t crc = w->crc;
  cw_put(w, (uint8_t)(crc >> 8));
  cw_put(w, (uint8_t)crc);
  return cw_finish(w, 1);
}

size_t tg_encode_frame(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len, uint8_t *out,
                       size_t out_cap) {
  cobs_w w;
  size_t i;
  if (len > TG_MAX_PAYLOAD) return 0;
  cw_init(&w, out, out_cap);
  put_header(&w, type, seq);
  for (i = 0; i < len; i++) cw_put_crc(&w, payload[i]);
  return put_trailer(&w);
}

size_t tg_encode_topic_frame_n(uint8_t type, uint16_t seq, const char *topic, size_t topic_len,
                               const uint8_t *body, size_t body_len, uint8_t *out, size_t out_cap) {
  cobs_w w;
  size_t i;
  if (topic_len > 255 || body_len > TG_MAX_PAYLOAD || 1 + topic_len + body_len > TG_MAX_PAYLOAD) return 0;
  cw_init(&w, out, out_cap);
  put_header(&w, type, seq);
  cw_put_crc(&w, (uint8_t)topic_len);
  for (i = 0; i < topic_len; i++) cw_put_crc(&w, (uint8_t)topic[i]);
  for (i = 0; i < body_len; i++) cw_put_crc(&w, body[i]);
  return put_trailer(&w);
}

size_t tg_encode_topic_frame(uint8_t type, uint16_t seq, const char *topic, const uint8_t *body,
                             size_t body_len, uint8_t *out, size_t out_cap) {
  size_t n = 0;
  while (topic[n] != '\0') n++;
  return tg_encode_topic_frame_n(type, seq, topic, n, body, body_len, out, out_cap);
}

size_t tg_encode_ack(uint16_t seq, uint8_t *out, size_t out_cap) {
  return tg_encode_frame(TG_ACK, seq, 0, 0, out, out_cap);
}

size_t tg_encode_nack(uint16_t seq, uint8_t reason, uint8_t *out, size_t out_cap) {
  return tg_encode_frame(TG_NACK, seq, &reason, 1, out, out_cap);
}

/* ================================================ §5.2 topic and CBOR checks */

int tg_topic_valid(const uint8_t *s, size_t len) {
  size_t i = 0;
  if (len == 0) return 1;
  if (s[0] == '/' || s[len - 1] == '/') return 0;
  while (i < len) {
    uint8_t c = s[i];
    uint8_t n, k;
    uint32_t cp, min;
    if (c < 0x80) {
      if (c == 0x00 || c == '+' || c == '#') return 0;
      if (c == '/' && i + 1 < len && s[i + 1] == '/') return 0;
      i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      min = 0x80;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      min = 0x800;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      min = 0x10000;
      cp = c & 0x07u;
    } else {
      return 0;
    }
    if (i + n >= len) return 0;
    for (k = 1; k <= n; k++) {
      uint8_t cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFFu || (cp >= 0xD800u && cp <= 0xDFFFu)) return 0;
    i += (size_t)n + 1;
  }
  return 1;
}

typedef struct {
  size_t next;
  uint32_t arg;
  uint8_t major;
  uint8_t ai;
  uint8_t big; /* 64-bit argument with a non-zero high word */
} cbor_head;

static int read_head(const uint8_t *b, size_t p, size_t end, cbor_head *h) {
  size_t q = p + 1;
  uint8_t ib;
  if (p >= end) return 0;
  ib = b[p];
  h->major = (uint8_t)(ib >> 5);
  h->ai = (uint8_t)(ib & 0x1F);
  h->big = 0;
  if (h->ai < 24) {
    h->arg = h->ai;
  } else if (h->ai == 24) {
    if (end - q < 1) return 0;
    h->arg = b[q];
    q += 1;
  } else if (h->ai == 25) {
    if (end - q < 2) return 0;
    h->arg = ((uint32_t)b[q] << 8) | b[q + 1];
    q += 2;
  } else if (h->ai == 26) {
    if (end - q < 4) return 0;
    h->arg = ((uint32_t)b[q] << 24) | ((uint32_t)b[q + 1] << 16) | ((uint32_t)b[q + 2] << 8) | b[q + 3];
    q += 4;
  } else if (h->ai == 27) {
    if (end - q < 8) return 0;
    h->big = (uint8_t)((b[q] | b[q + 1] | b[q + 2] | b[q + 3]) != 0);
    h->arg = ((uint32_t)b[q + 4] << 24) | ((uint32_t)b[q + 5] << 16) | ((uint32_t)b[q + 6] << 8) | b[q + 7];
    q += 8;
  } else if (h->ai == 31) {
    h->arg = 0;
  } else {
    return 0; /* 28..30 reserved */
  }
  h->next = q;
  return 1;
}

#define INDEF ((size_t)-1)
#define NO_CHUNK 0xFF

/* RFC 8949 well-formedness, iterative, nesting <= TG_CBOR_MAX_DEPTH. */
int tg_cbor_check(const uint8_t *b, size_t len) {
  size_t remaining[TG_CBOR_MAX_DEPTH];
  uint8_t chunk[TG_CBOR_MAX_DEPTH];
  size_t depth = 0, p = 0;
  int top = 1;
  while (top > 0 || depth > 0) {
    cbor_head h;
    uint8_t in_string;
    if (depth > 0 && remaining[depth - 1] == 0) {
      depth--;
      continue;
    }
    if (p >= len) return 0;
    if (b[p] == 0xFF) { /* break */
      if (depth == 0 || remaining[depth - 1] != INDEF) return 0;
      p++;
      depth--;
      continue;
    }
    if (!read_head(b, p, len, &h)) return 0;
    in_string = depth > 0 ? chunk[depth - 1] : NO_CHUNK;
    if (in_string != NO_CHUNK && (h.major != in_string || h.ai == 31)) return 0;
    if (depth == 0)
      top--;
    else if (remaining[depth - 1] != INDEF)
      remaining[depth - 1]--;
    p = h.next;
    switch (h.major) {
    case 0:
    case 1:
      if (h.ai == 31) return 0;
      break;
    case 2:
    case 3:
      if (h.ai == 31) {
        if (depth + 1 > TG_CBOR_MAX_DEPTH) return 0;
        remaining[depth] = INDEF;
        chunk[depth++] = h.major;
      } else {
        if (h.big || h.arg > len - p) return 0;
        p += h.arg;
      }
      break;
    case 4:
    case 5:
      if (depth + 1 > TG_CBOR_MAX_DEPTH) return 0;
      if (h.ai == 31) {
        remaining[depth] = INDEF;
      } else {
        size_t rem = len - p; /* every item needs at least one byte */
        if (h.big || h.arg > rem || (h.major == 5 && h.arg > rem / 2)) return 0;
        remaining[depth] = h.major == 5 ? (size_t)h.arg * 2 : (size_t)h.arg;
      }
      chunk[depth++] = NO_CHUNK;
      break;
    case 6:
      if (h.ai == 31) return 0;
      if (depth + 1 > TG_CBOR_MAX_DEPTH) return 0;
      remaining[depth] = 1;
      chunk[depth++] = NO_CHUNK;
      break;
    default: /* 7 */
      if (h.ai == 31) return 0;
      if (h.ai == 24 && h.arg < 32) return 0;
      break;
    }
  }
  return p == len;
}

/* ============================================== §3-§5, §7 frame decoding */

static void frame_clear(tg_frame *f) {
  f->type = 0;
  f->seq = 0;
  f->has_seq = 0;
  f->payload = 0;
  f->payload_len = 0;
  f->topic = 0;
  f->topic_len = 0;
  f->body = 0;
  f->body_len = 0;
  f->reason = 0;
}

static void frame_hint(const uint8_t *b, size_t len, tg_frame *f) {
  if (len >= TG_HEADER_LEN) {
    f->type = b[1];
    f->seq = (uint16_t)(((uint16_t)b[2] << 8) | b[3]);
    f->has_seq = 1;
  }
}

int tg_frame_parse(const uint8_t *b, size_t len, tg_frame *f) {
  size_t crc_at, plen, tlen;
  const uint8_t *pl;
  frame_clear(f);
  frame_hint(b, len, f);
  if (len > TG_MAX_FRAME) return TG_ERR_OVERSIZE;
  if (len < TG_MIN_FRAME) return TG_ERR_SHORT;
  crc_at = len - TG_CRC_LEN;
  if (tg_crc16(b, crc_at) != (uint16_t)(((uint16_t)b[crc_at] << 8) | b[crc_at + 1])) return TG_ERR_CRC;
  if (b[0] != TG_PROTOCOL_VERSION) return TG_ERR_VERSION;
  if (b[1] < TG_HELLO || b[1] > TG_PONG) return TG_ERR_TYPE;
  pl = b + TG_HEADER_LEN;
  plen = crc_at - TG_HEADER_LEN;
  f->payload = pl;
  f->payload_len = plen;
  switch (b[1]) {
  case TG_ACK:
  case TG_PING:
  case TG_PONG:
    if (plen != 0) return TG_ERR_PAYLOAD;
    break;
  case TG_NACK:
    if (plen != 1) return TG_ERR_PAYLOAD;
    f->reason = pl[0];
    break;
  case TG_HELLO:
    if (!tg_cbor_check(pl, plen)) return TG_ERR_CBOR;
    f->body = pl;
    f->body_len = plen;
    break;
  default: /* DATA, COMMAND */
    if (plen < 1) return TG_ERR_PAYLOAD;
    tlen = pl[0];
    if (1 + tlen > plen) return TG_ERR_PAYLOAD;
    if (!tg_topic_valid(pl + 1, tlen)) return TG_ERR_TOPIC;
    if (!tg_cbor_check(pl + 1 + tlen, plen - 1 - tlen)) return TG_ERR_CBOR;
    f->topic = (const char *)(pl + 1);
    f->topic_len = tlen;
    f->body = pl + 1 + tlen;
    f->body_len = plen - 1 - tlen;
    break;
  }
  return TG_OK;
}

int tg_frame_decode(const uint8_t *wire, size_t len, uint8_t *scratch, size_t scratch_cap, tg_frame *f) {
  size_t n = 0;
  size_t cap = scratch_cap < TG_MAX_FRAME ? scratch_cap : TG_MAX_FRAME;
  int r = tg_cobs_decode(wire, len, scratch, cap, &n);
  if (r != TG_OK) {
    frame_clear(f);
    frame_hint(scratch, n, f); /* header decoded before the error, if any */
    return r;
  }
  return tg_frame_parse(scratch, n, f);
}

/* =================================================== §2 streaming receive */

void tg_rx_init(tg_rx *rx) {
  rx->len = 0;
  rx->seg = 0;
  rx->remaining = 0;
  rx->prev_code = 0xFF;
  rx->discarding = 0;
}

int tg_rx_feed(tg_rx *rx, uint8_t x, tg_frame *f) {
  if (x == 0) {
    int r = TG_RX_IDLE;
    if (rx->discarding || rx->seg == 0) {
      r = TG_RX_IDLE;
    } else if (rx->remaining > 0) {
      frame_clear(f);
      frame_hint(rx->buf, rx->len, f);
      r = TG_ERR_COBS;
    } else {
      r = tg_frame_parse(rx->buf, rx->len, f);
      if (r == TG_OK) r = TG_RX_FRAME;
    }
    tg_rx_init(rx);
    return r;
  }
  if (rx->seg < 0xFFFFu) rx->seg++;
  if (rx->discarding) return TG_RX_IDLE;
  if (rx->remaining == 0) { /* code byte; a short previous block implied a zero */
    if (rx->prev_code != 0xFF) {
      if (rx->len >= TG_RX_MAX) goto overflow;
      rx->buf[rx->len++] = 0;
    }
    rx->prev_code = x;
    rx->remaining = (uint8_t)(x - 1);
  } else {
    if (rx->len >= TG_RX_MAX) goto overflow;
    rx->buf[rx->len++] = x;
    rx->remaining--;
  }
  return TG_RX_IDLE;
overflow:
  rx->discarding = 1;
  frame_clear(f);
  frame_hint(rx->buf, rx->len, f);
  return TG_ERR_OVERSIZE;
}

uint8_t tg_nack_for_status(int status) {
  switch (status) {
  case TG_ERR_OVERSIZE:
    return TG_NACK_OVERSIZE;
  case TG_ERR_CRC:
    return TG_NACK_BAD_CRC;
  case TG_ERR_VERSION:
    return TG_NACK_BAD_VERSION;
  case TG_ERR_TYPE:
    return TG_NACK_UNKNOWN_TYPE;
  case TG_ERR_TOPIC:
    return TG_NACK_BAD_TOPIC;
  case TG_ERR_PAYLOAD:
  case TG_ERR_CBOR:
    return TG_NACK_MALFORMED;
  default: /* TG_OK, cobs, too-short: no NACK */
    return 0;
  }
}

const char *tg_status_name(int status) {
  switch (status) {
  case TG_OK:
    return "ok";
  case TG_ERR_COBS:
    return "cobs";
  case TG_ERR_SHORT:
    return "too-short";
  case TG_ERR_OVERSIZE:
    return "oversize";
  case TG_ERR_CRC:
    return "bad-crc";
  case TG_ERR_VERSION:
    return "bad-version";
  case TG_ERR_TYPE:
    return "unknown-type";
  case TG_ERR_PAYLOAD:
    return "bad-payload";
  case TG_ERR_TOPIC:
    return "bad-topic";
  case TG_ERR_CBOR:
    return "bad-cbor";
  case TG_ERR_NOSPACE:
    return "no-space";
  default:
    return "unknown";
  }
}

/* ====================================================== CBOR writer (§5) */

void tg_cbor_init(tg_cbor *w, uint8_t *buf, size_t cap) {
  w->buf = buf;
  w->cap = cap;
  w->len = 0;
  w->err = 0;
}

static void cb_put(tg_cbor *w, uint8_t b) {
  if (w->len >= w->cap) {
    w->err = 1;
    return;
  }
  w->buf[w->len++] = b;
}

static void cb_head(tg_cbor *w, uint8_t major, uint32_t arg) {
  uint8_t m = (uint8_t)(major << 5);
  if (arg < 24) {
    cb_put(w, (uint8_t)(m | arg));
  } else if (arg < 0x100) {
    cb_put(w, (uint8_t)(m | 24));
    cb_put(w, (uint8_t)arg);
  } else if (arg < 0x10000) {
    cb_put(w, (uint8_t)(m | 25));
    cb_put(w, (uint8_t)(arg >> 8));
    cb_put(w, (uint8_t)arg);
  } else {
    cb_put(w, (uint8_t)(m | 26));
    cb_put(w, (uint8_t)(arg >> 24));
    cb_put(w, (uint8_t)(arg >> 16));
    cb_put(w, (uint8_t)(arg >> 8));
    cb_put(w, (uint8_t)arg);
  }
}

void tg_cbor_map(tg_cbor *w, uint32_t pairs) { cb_head(w, 5, pairs); }
void tg_cbor_array(tg_cbor *w, uint32_t items) { cb_head(w, 4, items); }
void tg_cbor_uint(tg_cbor *w, uint32_t v) { cb_head(w, 0, v); }

void tg_cbor_int(tg_cbor *w, int32_t v) {
  if (v >= 0)
    cb_head(w, 0, (uint32_t)v);
  else
    cb_head(w, 1, (uint32_t)(-1 - v)); /* -1 - INT32_MIN == INT32_MAX: no overflow */
}

void tg_cbor_float(tg_cbor *w, float v) {
  union {
    float f;
    uint32_t u;
  } bits;
  bits.f = v;
  cb_put(w, 0xFA);
  cb_put(w, (uint8_t)(bits.u >> 24));
  cb_put(w, (uint8_t)(bits.u >> 16));
  cb_put(w, (uint8_t)(bits.u >> 8));
  cb_put(w, (uint8_t)bits.u);
}

void tg_cbor_bool(tg_cbor *w, int v) { cb_put(w, v ? 0xF5 : 0xF4); }
void tg_cbor_null(tg_cbor *w) { cb_put(w, 0xF6); }

void tg_cbor_text_n(tg_cbor *w, const char *s, size_t n) {
  size_t i;
  cb_head(w, 3, (uint32_t)n);
  for (i = 0; i < n; i++) cb_put(w, (uint8_t)s[i]);
}

void tg_cbor_text(tg_cbor *w, const char *s) {
  size_t n = 0;
  while (s[n] != '\0') n++;
  tg_cbor_text_n(w, s, n);
}

void tg_cbor_bytes(tg_cbor *w, const uint8_t *p, size_t n) {
  size_t i;
  cb_head(w, 2, (uint32_t)n);
  for (i = 0; i < n; i++) cb_put(w, p[i]);
}

int tg_cbor_ok(const tg_cbor *w) { return !w->err; }

size_t tg_hello_payload(uint8_t *buf, size_t cap, const char *id, const char *fw, const char *const *caps,
                        size_t ncaps, uint16_t mfs) {
  tg_cbor w;
  size_t i;
  uint32_t pairs = 2u + (ncaps > 0 ? 1u : 0u) + (mfs != TG_MAX_FRAME ? 1u : 0u);
  tg_cbor_init(&w, buf, cap);
  tg_cbor_map(&w, pairs);
  tg_cbor_text(&w, "id");
  tg_cbor_text(&w, id);
  tg_cbor_text(&w, "fw");
  tg_cbor_text(&w, fw);
  if (ncaps > 0) {
    tg_cbor_text(&w, "caps");
    tg_cbor_array(&w, (uint32_t)ncaps);
    for (i = 0; i < ncaps; i++) tg_cbor_text(&w, caps[i]);
  }
  if (mfs != TG_MAX_FRAME) {
    tg_cbor_text(&w, "mfs");
    tg_cbor_uint(&w, mfs);
  }
  return tg_cbor_ok(&w) ? w.len : 0;
}
