// Package cloudtrail is the CloudTrail source: it decodes CloudWatch Logs
// subscription payloads that carry CloudTrail records and turns every record
// into one standardized activity.
//
// # Input
//
// CloudTrail delivers to a CloudWatch Logs log group; a subscription filter
// invokes the source's Lambda with {"awslogs":{"data": base64(gzip(json))}}.
// A batch holds up to 10,000 log events and about 1 MB of messages; each
// message is one CloudTrail record (up to 256 KB, with truncated members
// marked "omitted": true). CONTROL_MESSAGE batches (CloudWatch Logs health
// checks) yield no activity and no error. A payload that cannot be decoded is
// an error wrapping ErrMalformedPayload, so Lambda retries the batch and
// finally parks it in the on-failure destination.
//
// Across an organization, member accounts subscribe their log groups to a
// CloudWatch Logs destination that writes each batch, gzip(json) without the
// base64, as one record of a Kinesis data stream; the event source mapping
// invokes the source with an events.KinesisEvent, which HandleKinesis (and
// Invoke) decode with the same decoder (FromGzip), reporting the first
// record that cannot be decoded as the batch item failure.
//
// A log event whose message is not a CloudTrail record (not JSON, or JSON
// without any CloudTrail member) becomes an activity whose subject is
// "Unrecognized log event in <log group>", severity info, carrying the trimmed
// raw text: nothing is dropped silently.
//
// # Severity
//
// The source assigns a first severity; enrichers (detections) may raise it.
// The most urgent matching row wins:
//
//	condition                                                        severity
//	userIdentity.type Root (any call, any outcome)                   high
//	cloudtrail StopLogging, DeleteTrail, UpdateTrail, PutEventSelectors high
//	outcome denied (errorCode AccessDenied*, *AccessDenied,
//	  *UnauthorizedOperation incl. Client.UnauthorizedOperation)     medium
//	console sign-in failure (ConsoleLogin with a failure response)   medium
//	anything else, and unrecognized log events                        info
//
// # Outcome
//
// denied as above; failed for any other errorCode (except "" and a numeric
// 2xx/3xx HTTP status, which some exporters write for a success) and for a
// failed console sign-in; success otherwise.
//
// # Parsing, once
//
// base64 and gzip (klauspost/compress), then the batch is decoded as
// encoding/json would: jsonscan.DecodeLogsData unescapes the messages of a
// batch of the shape CloudWatch Logs writes into one block, goccy/go-json
// decodes anything else; valyala/fastjson (a pooled parser) parses each
// record once for the activity builder, the presets
// (filterpattern.Pattern.MatchParsed, arbitrary paths) and denial.Explain
// (read only for a denial). internal/jsonscan vouches that Detail is strictly
// valid, compact JSON (activity.Marshal then copies it unchecked:
// SetCheckedDetail) and summarizes nesting beyond fastjson's 300 levels. The
// strings of activities are copied into an arena, and Handler.Invoke builds
// batch after batch in the same memory (Batch). Differential tests and fuzz
// targets hold each step to encoding/json.
// Speed as deployed, against the original system's Node code and gzip -dc:
// README, "Speed"; how the parsers were chosen: docs/PERFORMANCE.md.
package cloudtrail
