// Package s2stest provides a strict, in-process mock of AppsFlyer's S2S API
// for Web Attribution, in the spirit of net/http/httptest, with fault
// injection for testing clients.
//
// It is an independent implementation of the API contract: it must not
// import afimport/mappings or afimport/importer, so that a bug in the
// mapping cannot hide behind the same bug in the mock.
//
// # Contract enforced
//
//   - POST /v2.0/s2s/inapps/app/web/{appId} (event) and
//     POST /v2.0/s2s/visits/app/web/{appId} (visit); other paths 404, other
//     methods 405.
//   - Authorization: Bearer <token>, else 401 (the token is never echoed).
//   - Content-Type: application/json, optionally with charset=utf-8, else 415.
//   - Unknown app (Config.KnownApps) 401, blocked app (Config.BlockedApps) 403.
//   - Body larger than Config.MaxBodyBytes 413.
//   - Every field rule of the spec, else 400 with
//     {"status":"error","message":"<field>: <rule>"}.
//   - Accepted: 202 {"status":"ok","message":"accepted","messageId":"..."}.
//
// # Order of the checks
//
// Path (404), method (405), body size (413), Latency+Jitter, token (401),
// Content-Type (415), app known (401) and not blocked (403), RateLimit (429),
// then the Script step for the body's key, then Faults, then the body rules
// (400), else 202. A scripted or fault answer thus wins over a 400; Script
// and Faults only ever affect requests that passed auth and media type.
//
// # Stricter than the real API
//
// The mock rejects, where the real API may be laxer: unknown fields (top
// level and inside user_id), duplicate keys, null for any field, invalid
// UTF-8, currency codes not in upper case, a custom_parameters that is not an
// object, and an event or revenue field sent to the visit endpoint. These
// catch mapping bugs early; a client must not rely on the real API rejecting
// them.
//
// The late acceptance window is not enforced with an error, because the real
// API silently re-dates late rows to the receive time; the mock counts them in
// Stats.Late instead.
//
// # Control endpoints
//
// GET /_mock/stats answers Stats as JSON and POST /_mock/reset clears it, so
// subprocess tests can inspect a standalone mock (see ListenAndServe).
package s2stest
