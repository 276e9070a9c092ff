// Package webhook delivers a gamify engine's outbox to HTTP endpoints.
//
// Each Endpoint has its own durable outbox consumer, named "webhook/" +
// Endpoint.Name, and its own goroutine, so a slow or failing endpoint holds
// back neither the others nor the engine's writer: it only reads the outbox
// and acknowledges. Entries are POSTed one at a time, in commit order, as
// JSON (see Payload). A delivery is retried with exponential backoff and
// jitter until the endpoint answers 2xx (any other answer fails, a 3xx too:
// the default Client follows no redirect) or the next attempt would start
// more than Config.MaxRetryTime after the first; it is then written to the
// endpoint's dead-letter file (see ReadDeadLetters). Only then is the entry
// acknowledged, so after a restart of either side nothing acknowledged is
// lost: an entry is delivered or dead-lettered at least once. Close stops
// delivery, acknowledging what was delivered. Receivers de-duplicate by the
// Gamify-Delivery header, which stays the same across retries and restarts.
//
// Headers of every request:
//
//	Content-Type:      application/json
//	Gamify-Delivery:   <Config.Source>-<outbox Seq>, e.g. "gamify-42"
//	Gamify-Timestamp:  Unix seconds when the attempt was signed
//	Gamify-Attempt:    1 for the first attempt, 2 for the first retry, ...
//	Gamify-Signature:  sha256=<hex HMAC-SHA256(Endpoint.Secret, timestamp + "." + body)>
//
// The signed string is the Gamify-Timestamp value, a full stop and the raw
// body, so a receiver can refuse replays of old requests; Verify checks it.
//
// The package uses the standard library only and imports the root package;
// the root package never imports it.
package webhook
