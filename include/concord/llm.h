/*
 * concord/llm.h - the language-model client: one chat completion of an
 * OpenAI-compatible API (POST {llm_endpoint}/chat/completions, the
 * protocol of OpenAI's "Create chat completion"), as spoken by OpenAI,
 * Gemini's OpenAI-compatible endpoint, Ollama, llama.cpp's server and
 * vLLM.  conf/concord.conf lists each one's settings.
 *
 * Never required: with llm_endpoint unset every caller (the mapping
 * adviser, concord/map.h; questions, concord/ask.h) goes on without it.
 *
 * One call, llm_chat():
 *  - the answer is asked for as JSON: "response_format" {"type":
 *    "json_schema", "json_schema": {"name", "strict": true, "schema"}}
 *    when the caller gives a JSON Schema and llm_response_format is
 *    json_schema (the default); {"type": "json_object"} when it is
 *    json_object, or when the server refused json_schema with 400 (one
 *    more attempt, within the same deadline); nothing when it is none.
 *    Whatever the server did with it, the message content is parsed as
 *    JSON here (a ```json fence around it is tolerated) and must be an
 *    object that the caller's validator accepts;
 *  - llm_timeout_ms bounds the whole call, retries and waits included
 *    (a caller may give a shorter bound); the connection phase at most
 *    10 s of it;
 *  - one retry on 429 and 5xx and on a failed connection, after a
 *    backoff of Retry-After seconds (RFC 9110 §10.2.3; delay-seconds
 *    only) or else 500 ms, only when the rest of the deadline leaves at
 *    least that much;
 *  - the response body is capped at LLM_MAX_RESPONSE bytes (CC_ETOOBIG);
 *  - TLS peer and host verification always on; no redirects followed;
 *    only http and https; plain http is refused with an API key unless
 *    the host is loopback (127.0.0.0/8, ::1, localhost);
 *  - the API key is read from llm_api_key_file at each call (the first
 *    line, surrounding white space removed; the file must not be
 *    readable by group or others).  The key is sent as "Authorization:
 *    Bearer KEY" and appears in no log line and no error message;
 *  - a per-user daily budget: at most llm_daily_requests HTTP requests
 *    per UTC day, counted in the user's workspace (table llm_usage) and
 *    refused with CC_ERATE beyond;
 *  - answers are cached in the user's workspace (table llm_cache) by the
 *    SHA-256 of what determines them (endpoint, model, response format,
 *    schema, system and user messages): the same question never costs
 *    twice.  Only validated answers are cached.
 * Each call logs one line (purpose, model, HTTP status, milliseconds,
 * attempts, cached), never the prompt or the answer.
 */
#ifndef CONCORD_LLM_H
#define CONCORD_LLM_H

#include <stddef.h>

#include <jansson.h>
#include <sqlite3.h>

#include "concord/config.h"
#include "concord/error.h"

#define LLM_MAX_RESPONSE	(1024 * 1024)	/* bytes of one HTTP answer */
#define LLM_DAILY_REQUESTS	1000		/* default llm_daily_requests */

/*
 * Takes the llm_* settings of cfg for this process (copied; call once at
 * start, before fork(); the key file is read only when a call is made).
 * curl_global_init() is called here.  Errors: CC_ECONFIG (an endpoint
 * that is not http:// or https://, or llm_response_format not one of
 * json_schema, json_object, none), with diag; the settings are then
 * those of "no endpoint".
 */
cc_err	llm_configure(const struct cc_config *cfg, struct cc_diag *diag);

/* 1 when an endpoint is configured (llm_chat() may be tried), else 0. */
int	llm_enabled(void);

/* The configured model name ("" when none); static storage. */
const char *llm_model(void);

/* The configured whole-call timeout, milliseconds. */
long	llm_timeout_ms(void);

/*
 * A validator of answers: returns 1 when answer (a JSON object) has the
 * shape the caller needs, else 0 with one line of why in why (size
 * bytes, NUL-terminated).
 */
typedef int	(*llm_valid_fn)(const json_t *answer, void *ctx, char *why,
		    size_t size);

struct llm_request {
	const char	*purpose;	/* "mapping", "ask": logs and cache */
	const char	*system;	/* the system message */
	const char	*user;		/* the user message */
	const json_t	*schema;	/* JSON Schema of the answer, or NULL */
	const char	*schema_name;	/* its name ([a-zA-Z0-9_-]{1,64}) */
	long		 timeout_ms;	/* 0: llm_timeout_ms(); else the
					   smaller of the two */
	llm_valid_fn	 valid;		/* NULL: any object */
	void		*valid_ctx;
};

struct llm_result {
	json_t		*answer;	/* the parsed object; caller's */
	int		 cached;	/* 1: from llm_cache, no request */
	int		 attempts;	/* HTTP requests made */
	long		 status;	/* last HTTP status, 0 if none */
	long		 elapsed_ms;	/* wall clock of the call */
	char		 key[65];	/* cache key, SHA-256 hex */
};

/*
 * Asks the model req, through the cache and budget of workspace db (a
 * read-write workspace connection; NULL: no cache and no budget, for
 * the command line).  On success res->answer is a new reference.
 * Errors (diag code in parentheses; the message is one line for a
 * person, without the key):
 *   CC_ECONFIG  no endpoint (llm_not_configured); the key file cannot be
 *               read, is empty or is readable by others (llm_key_file);
 *               a key over plain http to a host that is not loopback
 *               (llm_plain_http)
 *   CC_ERATE    the daily budget is spent (llm_budget); the server said
 *               429 twice (llm_rate_limited)
 *   CC_EIO      timeout (llm_timeout), no connection (llm_unreachable),
 *               5xx twice (llm_server_error), another HTTP status
 *               (llm_http_status)
 *   CC_ETOOBIG  the response passed LLM_MAX_RESPONSE (llm_too_big)
 *   CC_EPARSE   not a chat completion, or its content is not a JSON
 *               object (llm_bad_json)
 *   CC_EINVALID the validator refused the answer (llm_bad_answer)
 *   CC_ENOMEM
 */
cc_err	llm_chat(sqlite3 *db, const struct llm_request *req,
	    struct llm_result *res, struct cc_diag *diag);

/*
 * The JSON object in a message content: the whole text, or the text
 * inside one ```json (or ```) fence.  Returns a new reference, or NULL
 * when there is none (exported for the tests).
 */
json_t	*llm_parse_content(const char *content);

#endif /* CONCORD_LLM_H */
