// Package httpapi serves a gamify Engine over HTTP with the shapes of two
// hosted gamification APIs, so clients written for them work against it:
//
//   - Trophy's application API under /v1 and its admin API under /admin/v1
//     (camelCase JSON, the Idempotency-Key header, bulk calls with per-item
//     issues), with gamify's extensions: users' leagues and challenges
//     under /v1/users/{id}, challenges under /v1/challenges;
//   - Bricqs' admin API under /api/v1/gamify/admin (snake_case JSON, the
//     participants query and envelope, hard delete and ?anonymize=true) and
//     part of its participant API under /api/v1/gamify (points award and
//     deduct, reward claims, badges);
//   - gamify's operations under /admin/v1: GET /stats and GET /backup.
//
// Every request but GET /healthz (for load balancers, no key) carries an
// API key in the X-API-Key header (or "Authorization: Bearer KEY"). A key
// with the admin or gamify:admin scope may call everything; any other key
// only the application and participant endpoints. A request picks a tenant
// with the Tenant-ID header or a /tenants/{key} path prefix; a key bound to
// a tenant is confined to it. Bodies are read as JSON whatever their
// Content-Type.
//
// Errors have one JSON body, {"code", "error", "detail", "field"}: error is
// what Trophy clients read and detail what Bricqs clients read; field, the
// input at fault, is left out when there is none. The status codes are
// listed in docs/http.md. The package uses only the Engine's public API and
// the standard library.
package httpapi
