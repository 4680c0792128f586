#include "nts_ef.h"

#include <string.h>

#include "byteorder.h"
#include "packet.h"

#define EF_HEADER_LEN 4
#define AUTH_HEADER_LEN 4 /* nonce length, ciphertext length */

const char *nts_ef_status_str(enum nts_ef_status status)
{
	switch (status) {
	case NTS_EF_OK:
		return "ok";
	case NTS_EF_BAD_FIELD_LENGTH:
		return "malformed extension field length";
	case NTS_EF_SHORT_UID:
		return "unique identifier shorter than 32 bytes";
	case NTS_EF_DUPLICATE_FIELD:
		return "NTS extension field repeated";
	case NTS_EF_NO_UID:
		return "no unique identifier";
	case NTS_EF_NO_COOKIE:
		return "no NTS cookie";
	case NTS_EF_NO_AUTH:
		return "no NTS authenticator";
	case NTS_EF_BAD_AUTH_FIELD:
		return "malformed NTS authenticator";
	case NTS_EF_FIELD_AFTER_AUTH:
		return "extension field after the NTS authenticator";
	case NTS_EF_AUTH_FAILED:
		return "NTS authenticator does not verify";
	case NTS_EF_UID_MISMATCH:
		return "unique identifier not ours";
	case NTS_EF_BAD_ENCRYPTED:
		return "malformed encrypted extension fields";
	case NTS_EF_NO_SPACE:
		return "no room for the NTS extension fields";
	}
	return "unknown status";
}

static size_t padded4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

size_t nts_ef_append(uint8_t *pkt, size_t len, size_t cap, uint16_t type, const uint8_t *body, size_t body_len)
{
	size_t field_len = EF_HEADER_LEN + padded4(body_len);

	if (field_len < NTS_EF_MIN_LEN)
		field_len = NTS_EF_MIN_LEN;
	if (field_len > UINT16_MAX || len > cap || cap - len < field_len)
		return 0;
	store_be16(pkt + len, type);
	store_be16(pkt + len + 2, (uint16_t)field_len);
	if (body_len)
		memcpy(pkt + len + EF_HEADER_LEN, body, body_len);
	memset(pkt + len + EF_HEADER_LEN + body_len, 0, field_len - EF_HEADER_LEN - body_len);
	return len + field_len;
}

size_t nts_ef_append_auth(const struct nts_aead *key, const uint8_t *nonce, size_t nonce_len, const uint8_t *plain,
			  size_t plain_len, uint8_t *pkt, size_t len, size_t cap)
{
	size_t cipher_len = NTS_AEAD_TAG_LEN + plain_len;
	/* RFC 8915 5.6: nonce and its padding take at least 16 bytes */
	size_t nonce_room = padded4(nonce_len) < NTS_NONCE_LEN ? NTS_NONCE_LEN : padded4(nonce_len);
	size_t body_len = AUTH_HEADER_LEN + nonce_room + padded4(cipher_len);
	size_t field_len = EF_HEADER_LEN + body_len;
	uint8_t *body = pkt + len + EF_HEADER_LEN;

	if (nonce_len == 0 || nonce_len > UINT16_MAX || field_len > UINT16_MAX || len > cap ||
	    cap - len < field_len)
		return 0;
	memset(pkt + len, 0, field_len);
	store_be16(pkt + len, NTS_EF_AUTHENTICATOR);
	store_be16(pkt + len + 2, (uint16_t)field_len);
	store_be16(body, (uint16_t)nonce_len);
	store_be16(body + 2, (uint16_t)cipher_len);
	memcpy(body + AUTH_HEADER_LEN, nonce, nonce_len);
	if (!nts_aead_encrypt(key, nonce, nonce_len, pkt, len, plain, plain_len, body + AUTH_HEADER_LEN + nonce_room))
		return 0;
	return len + field_len;
}

size_t nts_ef_request_append(const struct nts_aead *c2s, const uint8_t *uid, size_t uid_len,
			     const struct nts_cookie *cookie, unsigned placeholders, const uint8_t *nonce,
			     size_t nonce_len, uint8_t *pkt, size_t len, size_t cap)
{
	static const uint8_t zeros[NTS_KE_MAX_COOKIE_LEN];

	if (cookie->len == 0 || cookie->len > NTS_KE_MAX_COOKIE_LEN)
		return 0;
	len = nts_ef_append(pkt, len, cap, NTS_EF_UNIQUE_ID, uid, uid_len);
	if (len)
		len = nts_ef_append(pkt, len, cap, NTS_EF_COOKIE, cookie->data, cookie->len);
	for (unsigned i = 0; i < placeholders && len; i++)
		len = nts_ef_append(pkt, len, cap, NTS_EF_COOKIE_PLACEHOLDER, zeros, cookie->len);
	if (len)
		len = nts_ef_append_auth(c2s, nonce, nonce_len, NULL, 0, pkt, len, cap);
	return len;
}

#define MAX_PLAIN (NTS_KE_MAX_COOKIES * (EF_HEADER_LEN + NTS_KE_MAX_COOKIE_LEN))

size_t nts_ef_reply_append(const struct nts_aead *s2c, const uint8_t *uid, size_t uid_len,
			   const struct nts_cookie *cookies, size_t n_cookies, const uint8_t *nonce, size_t nonce_len,
			   uint8_t *pkt, size_t len, size_t cap)
{
	uint8_t plain[MAX_PLAIN];
	size_t plain_len = 0;

	if (n_cookies > NTS_KE_MAX_COOKIES)
		return 0;
	for (size_t i = 0; i < n_cookies; i++) {
		plain_len = nts_ef_append(plain, plain_len, sizeof(plain), NTS_EF_COOKIE, cookies[i].data,
					  cookies[i].len);
		if (plain_len == 0)
			return 0;
	}
	len = nts_ef_append(pkt, len, cap, NTS_EF_UNIQUE_ID, uid, uid_len);
	if (len)
		len = nts_ef_append_auth(s2c, nonce, nonce_len, plain, plain_len, pkt, len, cap);
	return len;
}

struct field {
	uint16_t type;
	const uint8_t *body;
	size_t body_len;
};

/* The field at buf[*off..len); advances *off past it. */
static bool next_field(const uint8_t *buf, size_t len, size_t *off, struct field *f)
{
	size_t field_len;

	if (len - *off < EF_HEADER_LEN)
		return false;
	field_len = load_be16(buf + *off + 2);
	if (field_len < EF_HEADER_LEN || field_len % 4 || field_len > len - *off)
		return false;
	f->type = load_be16(buf + *off);
	f->body = buf + *off + EF_HEADER_LEN;
	f->body_len = field_len - EF_HEADER_LEN;
	*off += field_len;
	return true;
}

static enum nts_ef_status parse_auth(const struct field *field, struct nts_ef_fields *f)
{
	size_t nonce_len, cipher_len, nonce_room;

	if (field->body_len < AUTH_HEADER_LEN)
		return NTS_EF_BAD_AUTH_FIELD;
	nonce_len = load_be16(field->body);
	cipher_len = load_be16(field->body + 2);
	nonce_room = padded4(nonce_len) < NTS_NONCE_LEN ? NTS_NONCE_LEN : padded4(nonce_len);
	if (nonce_len == 0 || cipher_len < NTS_AEAD_TAG_LEN ||
	    AUTH_HEADER_LEN + nonce_room + padded4(cipher_len) > field->body_len)
		return NTS_EF_BAD_AUTH_FIELD;
	f->nonce = field->body + AUTH_HEADER_LEN;
	f->nonce_len = nonce_len;
	f->ciphertext = field->body + AUTH_HEADER_LEN + padded4(nonce_len);
	f->ciphertext_len = cipher_len;
	return NTS_EF_OK;
}

enum nts_ef_status nts_ef_parse(const uint8_t *pkt, size_t len, struct nts_ef_fields *f)
{
	size_t off = NTP_HEADER_LEN;

	memset(f, 0, sizeof(*f));
	if (len < NTP_HEADER_LEN)
		return NTS_EF_BAD_FIELD_LENGTH;
	while (off < len) {
		struct field field;
		size_t start = off;
		enum nts_ef_status status;

		if (f->has_auth)
			return NTS_EF_FIELD_AFTER_AUTH;
		if (!next_field(pkt, len, &off, &field))
			return NTS_EF_BAD_FIELD_LENGTH;
		switch (field.type) {
		case NTS_EF_UNIQUE_ID:
			if (f->uid)
				return NTS_EF_DUPLICATE_FIELD;
			if (field.body_len < NTS_UID_LEN)
				return NTS_EF_SHORT_UID;
			f->uid = field.body;
			f->uid_len = field.body_len;
			break;
		case NTS_EF_COOKIE:
			if (f->cookie)
				return NTS_EF_DUPLICATE_FIELD;
			f->cookie = field.body;
			f->cookie_len = field.body_len;
			break;
		case NTS_EF_COOKIE_PLACEHOLDER:
			f->placeholders++;
			f->placeholder_bytes += field.body_len;
			break;
		case NTS_EF_AUTHENTICATOR:
			status = parse_auth(&field, f);
			if (status != NTS_EF_OK)
				return status;
			f->has_auth = true;
			f->auth_offset = start;
			break;
		default:
			f->other_fields++;
			break;
		}
	}
	return NTS_EF_OK;
}

enum nts_ef_status nts_ef_decrypt(const struct nts_aead *key, const uint8_t *pkt, const struct nts_ef_fields *f,
				  uint8_t *plain, size_t cap, size_t *plain_len)
{
	if (!f->has_auth)
		return NTS_EF_NO_AUTH;
	if (f->ciphertext_len - NTS_AEAD_TAG_LEN > cap)
		return NTS_EF_NO_SPACE;
	if (!nts_aead_decrypt(key, f->nonce, f->nonce_len, pkt, f->auth_offset, f->ciphertext, f->ciphertext_len,
			      plain))
		return NTS_EF_AUTH_FAILED;
	*plain_len = f->ciphertext_len - NTS_AEAD_TAG_LEN;
	return NTS_EF_OK;
}

static bool uid_equal(const struct nts_ef_fields *f, const uint8_t *uid, size_t uid_len)
{
	return f->uid && f->uid_len == uid_len && memcmp(f->uid, uid, uid_len) == 0;
}

enum nts_ef_status nts_ef_reply_check(const struct nts_aead *s2c, const uint8_t *pkt, size_t len,
				      const uint8_t *uid, size_t uid_len, struct nts_cookie *cookies, size_t max,
				      size_t *n_cookies)
{
	/* eight cookie fields take at most 2080 bytes */
	uint8_t plain[4096];
	struct nts_ef_fields f;
	enum nts_ef_status status = nts_ef_parse(pkt, len, &f);
	size_t plain_len, off = 0;

	*n_cookies = 0;
	if (status != NTS_EF_OK)
		return status;
	if (!f.uid)
		return NTS_EF_NO_UID;
	if (!uid_equal(&f, uid, uid_len))
		return NTS_EF_UID_MISMATCH;
	status = nts_ef_decrypt(s2c, pkt, &f, plain, sizeof(plain), &plain_len);
	if (status != NTS_EF_OK)
		return status;
	while (off < plain_len) {
		struct field field;

		if (!next_field(plain, plain_len, &off, &field))
			return NTS_EF_BAD_ENCRYPTED;
		if (field.type != NTS_EF_COOKIE)
			continue;
		if (field.body_len == 0 || field.body_len > NTS_KE_MAX_COOKIE_LEN)
			return NTS_EF_BAD_ENCRYPTED;
		if (*n_cookies < max) {
			cookies[*n_cookies].len = (uint16_t)field.body_len;
			memcpy(cookies[*n_cookies].data, field.body, field.body_len);
			++*n_cookies;
		}
	}
	return NTS_EF_OK;
}

bool nts_ef_has_uid(const uint8_t *pkt, size_t len, const uint8_t *uid, size_t uid_len)
{
	struct nts_ef_fields f;

	/* a NAK has no authenticator, so anything malformed is no NAK */
	return nts_ef_parse(pkt, len, &f) == NTS_EF_OK && uid_equal(&f, uid, uid_len);
}
