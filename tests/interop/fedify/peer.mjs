// An independent ActivityPub peer for commonhub's interop tests: a real Fedify
// federation with one actor, alice, served over plain HTTP on 127.0.0.1, plus a
// small JSON control API under /_control/ that lets a test drive alice and see
// what Fedify received, verified, rejected and sent.
//
//   node peer.mjs [port]          (or FEDIFY_PEER_PORT; 0 picks a free port)
//
// Prints one line "READY <port>" on stdout once it is listening.  Set
// FEDIFY_PEER_LOG=debug|info|warning to also echo Fedify's own log to stderr.

import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import process from "node:process";

import {
  createFederation,
  fetchKey,
  generateCryptoKeyPair,
  MemoryKvStore,
  SendActivityError,
  verifyProof,
} from "@fedify/fedify";
import { DataIntegrityProof } from "@fedify/vocab";
import { Temporal } from "@js-temporal/polyfill";
import baseX from "@multiformats/base-x";
import {
  Accept,
  Activity,
  Announce,
  Create,
  CryptographicKey,
  Delete,
  Endpoints,
  Follow,
  isActor,
  Join,
  Leave,
  Offer,
  Person,
  Question,
  Reject,
  Undo,
  Update,
} from "@fedify/vocab";
import { configure } from "@logtape/logtape";

const HOST = "127.0.0.1";
const ALICE = "alice";
const LOG_LIMIT = 2000;

// ---------------------------------------------------------------------------
// What the tests can observe.  Everything is in memory and cleared by reset.
// ---------------------------------------------------------------------------

const state = {
  received: [], // activities Fedify verified and handed to a listener
  rejected: [], // activities whose signatures Fedify could not verify
  requests: [], // every HTTP request made to the peer (control API excluded)
  outgoing: [], // every HTTP request Fedify made (fetches and deliveries)
  log: [], // Fedify's own log records (LogTape), capped at LOG_LIMIT
  followers: new Map(), // follower actor id -> { id, inboxId, endpoints }
  following: new Map(), // target actor id -> { follow, accepted }
  background: [], // results of work done after a response (auto-Accepts)
  faults: [], // injected failures: { method, path, status, remaining }
};

function resetState() {
  for (const key of ["received", "rejected", "requests", "outgoing", "log", "background"]) {
    state[key] = [];
  }
  state.followers.clear();
  state.following.clear();
  state.faults = [];
}

// The inbound HTTP request being handled, so that inbox listeners (which run
// inside the request, since there is no queue) can say how it was signed.
const inboundRequest = new AsyncLocalStorage();
// The outgoing attempts of one control call, to report double-knocking.
const outgoingAttempts = new AsyncLocalStorage();

function signatureScheme(headers) {
  if (headers.has("signature-input")) return "rfc9421";
  if (headers.has("signature")) return "draft-cavage";
  return null;
}

function pickHeaders(headers) {
  const out = {};
  for (const name of [
    "signature-input",
    "signature",
    "content-digest",
    "digest",
    "date",
    "host",
    "content-type",
    "accept",
  ]) {
    if (headers.has(name)) out[name] = headers.get(name);
  }
  return out;
}

// Fedify calls the global fetch for every outgoing request (lookups, signed
// fetches, deliveries and both knocks of a double-knock), so wrapping it lets
// the tests see each attempt, its signature scheme and the answer.
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  const entry = {
    method: request.method,
    url: request.url,
    scheme: signatureScheme(request.headers),
    headers: pickHeaders(request.headers),
    status: null,
    error: null,
  };
  state.outgoing.push(entry);
  outgoingAttempts.getStore()?.push(entry);
  try {
    const response = await realFetch(request);
    entry.status = response.status;
    return response;
  } catch (error) {
    entry.error = String(error?.cause ?? error);
    throw error;
  }
};

await configure({
  reset: true,
  sinks: {
    memory(record) {
      if (state.log.length >= LOG_LIMIT) state.log.shift();
      state.log.push({
        level: record.level,
        category: record.category.join("."),
        message: record.message.map((part) => (typeof part === "string" ? part : safeString(part))).join(""),
      });
    },
    stderr(record) {
      const text = record.message.map((p) => (typeof p === "string" ? p : safeString(p))).join("");
      process.stderr.write(`[${record.level}] ${record.category.join(".")}: ${text}\n`);
    },
  },
  loggers: [
    { category: "fedify", lowestLevel: "debug", sinks: ["memory"] },
    ...(process.env.FEDIFY_PEER_LOG
      ? [{ category: "fedify", lowestLevel: process.env.FEDIFY_PEER_LOG, sinks: ["stderr"] }]
      : []),
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
  ],
});

function safeString(value) {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof URL) return value.href;
  try {
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  } catch {
    return String(value);
  }
}

// ---------------------------------------------------------------------------
// The federation.
// ---------------------------------------------------------------------------

// RSA for HTTP Signatures (draft-cavage and RFC 9421), Ed25519 for Object
// Integrity Proofs: the pair Fedify recommends and publishes by default.
const aliceKeys = [
  await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
  await generateCryptoKeyPair("Ed25519"),
];

const portArgument = process.argv.slice(2).find((arg) => !arg.startsWith("--"));
const requestedPort = Number(portArgument ?? process.env.FEDIFY_PEER_PORT ?? 0);
const server = createServer((req, res) => {
  handleNodeRequest(req, res).catch((error) => {
    process.stderr.write(`peer: unhandled error: ${error?.stack ?? error}\n`);
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end(String(error));
  });
});
await new Promise((resolve) => server.listen(requestedPort, HOST, resolve));
const port = server.address().port;
const origin = `http://${HOST}:${port}`;

const kv = new MemoryKvStore();
const federation = createFederation({
  kv,
  origin,
  // The peer and the hub under test both live on loopback.
  allowPrivateAddress: true,
  // Fedify's default, stated so the tests' expectations are visible here:
  // sign with RFC 9421 first, retry with draft-cavage when the peer refuses.
  firstKnock: "rfc9421",
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== ALICE) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Alice (Fedify interop peer)",
      summary: "A Fedify 2.x test actor",
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      outbox: ctx.getOutboxUri(identifier),
      followers: ctx.getFollowersUri(identifier),
      following: ctx.getFollowingUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      manuallyApprovesFollowers: false,
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((pair) => pair.multikey),
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) => (identifier === ALICE ? aliceKeys : []))
  // alice's actor stays public (this always answers true), but a signed GET of it is
  // checked as an authorized-fetch server would, and Fedify's verdict is recorded on the
  // request entry: `verified` and the `signedKey` (id and owner) Fedify resolved.
  .authorize(async (ctx) => {
    const http = inboundRequest.getStore();
    if (http?.scheme != null) {
      const key = await ctx.getSignedKey();
      http.verified = key != null;
      http.signedKey = key == null ? null : { id: key.id?.href ?? null, owner: key.ownerId?.href ?? null };
    }
    return true;
  });

federation.setFollowersDispatcher("/users/{identifier}/followers", (_ctx, identifier) => {
  if (identifier !== ALICE) return null;
  return { items: [...state.followers.values()] };
});
federation.setFollowingDispatcher("/users/{identifier}/following", (_ctx, identifier) => {
  if (identifier !== ALICE) return null;
  const accepted = [...state.following.entries()].filter(([, f]) => f.accepted);
  return { items: accepted.map(([id]) => new URL(id)) };
});
federation.setOutboxDispatcher("/users/{identifier}/outbox", (_ctx, identifier) => {
  if (identifier !== ALICE) return null;
  return { items: [] };
});

async function record(ctx, activity) {
  const http = inboundRequest.getStore();
  const entry = {
    type: activity.constructor.typeId?.href?.split("#").pop() ?? activity.constructor.name,
    id: activity.id?.href ?? null,
    actor: activity.actorId?.href ?? null,
    object: activity.objectId?.href ?? null,
    recipient: ctx.recipient ?? null,
    verified: true,
    scheme: http?.scheme ?? null,
    receivedAt: new Date().toISOString(),
    json: await activity.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader }),
  };
  state.received.push(entry);
  return entry;
}

function runInBackground(label, work) {
  // Answer the inbox first; a reply (the Accept of a Follow) goes out after,
  // as a real server would do from its queue.
  setImmediate(async () => {
    const attempts = [];
    try {
      await outgoingAttempts.run(attempts, work);
      state.background.push({ label, ok: true, attempts });
    } catch (error) {
      state.background.push({ label, ok: false, error: describeError(error), attempts });
    }
  });
}

async function onFollow(ctx, follow) {
  await record(ctx, follow);
  if (follow.objectId?.href !== ctx.getActorUri(ALICE).href) return;
  const follower = await follow.getActor(ctx);
  if (follower == null || !isActor(follower)) return;
  state.followers.set(follower.id.href, follower);
  const accept = new Accept({
    id: new URL(`/users/${ALICE}/accepts/${randomUUID()}`, origin),
    actor: ctx.getActorUri(ALICE),
    object: follow,
    to: follower.id,
  });
  runInBackground(`Accept ${follow.id?.href}`, () =>
    ctx.sendActivity({ identifier: ALICE }, follower, accept, { immediate: true }),
  );
}

async function onAcceptOrReject(ctx, activity) {
  await record(ctx, activity);
  const objectId = activity.objectId?.href;
  // Only an answer that names alice's Follow counts, as Mastodon requires.
  for (const [target, following] of state.following) {
    if (following.follow.id.href === objectId && activity.actorId?.href === target) {
      if (activity instanceof Accept) following.accepted = true;
      else state.following.delete(target);
    }
  }
}

async function onUndo(ctx, undo) {
  await record(ctx, undo);
  const object = await undo.getObject(ctx);
  if (object instanceof Follow && undo.actorId != null) state.followers.delete(undo.actorId.href);
}

const recordOnly = (ctx, activity) => record(ctx, activity);

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, onFollow)
  .on(Accept, onAcceptOrReject)
  .on(Reject, onAcceptOrReject)
  .on(Undo, onUndo)
  .on(Create, recordOnly)
  .on(Update, recordOnly)
  .on(Delete, recordOnly)
  .on(Announce, recordOnly)
  .on(Join, recordOnly)
  .on(Leave, recordOnly)
  .on(Offer, recordOnly)
  .on(Question, recordOnly)
  // Fedify dispatches to the most specific registered class, so this sees
  // only the types not listed above.
  .on(Activity, recordOnly)
  .onUnverifiedActivity(async (ctx, activity, reason) => {
    state.rejected.push({
      type: activity.constructor.typeId?.href?.split("#").pop() ?? activity.constructor.name,
      id: activity.id?.href ?? null,
      actor: activity.actorId?.href ?? null,
      recipient: ctx.recipient ?? null,
      scheme: inboundRequest.getStore()?.scheme ?? null,
      reason: describeReason(reason),
      json: await activity.toJsonLd({ format: "compact" }).catch(() => null),
    });
    // Returning nothing keeps Fedify's own answer: 401.
  })
  .onError((_ctx, error) => {
    state.background.push({ label: "inbox listener error", ok: false, error: describeError(error) });
  });

function describeReason(reason) {
  const out = { type: reason.type };
  if (reason.keyId != null) out.keyId = reason.keyId.href;
  if (reason.result != null) {
    if ("status" in reason.result) out.keyFetchStatus = reason.result.status;
    if ("error" in reason.result) out.keyFetchError = String(reason.result.error);
  }
  return out;
}

function describeError(error) {
  const out = { name: error?.name ?? "Error", message: String(error?.message ?? error) };
  if (error instanceof SendActivityError) {
    out.status = error.statusCode;
    out.inbox = error.inbox.href;
    out.body = error.responseBody;
  } else if (error?.response?.status != null) {
    out.status = error.response.status;
  }
  return out;
}

// ---------------------------------------------------------------------------
// The control API.
// ---------------------------------------------------------------------------

function aliceContext() {
  return federation.createContext(new URL(origin), undefined);
}

async function lookupActor(ctx, target, signed = true) {
  const options = signed ? { documentLoader: await ctx.getDocumentLoader({ identifier: ALICE }) } : {};
  const actor = await ctx.lookupObject(target, options);
  if (actor == null) throw new ControlError(404, `could not look up ${target}`);
  if (!isActor(actor)) throw new ControlError(422, `${target} is not an actor`);
  if (actor.inboxId == null) throw new ControlError(422, `${target} has no inbox`);
  return actor;
}

class ControlError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// Send from alice now (no queue, no retry) and say what happened, including
// every attempt, so a test sees a double-knock or a refusal.
async function deliver(ctx, recipient, activity) {
  const attempts = [];
  const result = { id: activity.id?.href ?? null, inbox: recipient.inboxId.href, attempts };
  try {
    await outgoingAttempts.run(attempts, () =>
      ctx.sendActivity({ identifier: ALICE }, recipient, activity, { immediate: true }),
    );
    result.ok = true;
  } catch (error) {
    result.ok = false;
    result.error = describeError(error);
  }
  result.status = attempts.at(-1)?.status ?? null;
  return result;
}

const control = {
  "GET health": () => ({ ok: true, origin, actor: `${origin}/users/${ALICE}`, fedify: "2.3.6" }),
  "GET received": () => state.received,
  "GET rejected": () => state.rejected,
  "GET requests": () => state.requests,
  "GET outgoing": () => state.outgoing,
  "GET background": () => state.background,
  "GET log": () => state.log,
  "GET followers": () => [...state.followers.keys()],
  "GET following": () =>
    [...state.following.entries()].map(([id, f]) => ({ id, follow: f.follow.id.href, accepted: f.accepted })),
  async "POST reset"() {
    resetState();
    // Forget cached documents, keys, remembered signature schemes and
    // processed activity ids, so each test meets a fresh Fedify.
    const keys = [];
    for await (const entry of kv.list()) keys.push(entry.key);
    await Promise.all(keys.map((key) => kv.delete(key)));
    return { ok: true, cleared: keys.length };
  },
  async "POST follow"(body) {
    const ctx = aliceContext();
    const target = await lookupActor(ctx, requireUrl(body, "target"), body.signed ?? true);
    const follow = new Follow({
      id: new URL(`/users/${ALICE}/follows/${randomUUID()}`, origin),
      actor: ctx.getActorUri(ALICE),
      object: target.id,
      to: target.id,
    });
    state.following.set(target.id.href, { follow, accepted: false });
    return deliver(ctx, target, follow);
  },
  async "POST undo-follow"(body) {
    const ctx = aliceContext();
    const target = await lookupActor(ctx, requireUrl(body, "target"), body.signed ?? true);
    const following = state.following.get(target.id.href);
    if (following == null) throw new ControlError(409, `alice does not follow ${target.id.href}`);
    const undo = new Undo({
      id: new URL(`/users/${ALICE}/undos/${randomUUID()}`, origin),
      actor: ctx.getActorUri(ALICE),
      object: following.follow,
      to: target.id,
    });
    state.following.delete(target.id.href);
    return deliver(ctx, target, undo);
  },
  async "POST send"(body) {
    const ctx = aliceContext();
    const target = await lookupActor(ctx, requireUrl(body, "target"), body.signed ?? true);
    if (typeof body.activity !== "object" || body.activity == null) {
      throw new ControlError(400, "activity must be a JSON-LD object");
    }
    const json = { "@context": "https://www.w3.org/ns/activitystreams", ...body.activity };
    let activity;
    try {
      activity = await Activity.fromJsonLd(json, {
        documentLoader: ctx.documentLoader,
        contextLoader: ctx.contextLoader,
      });
    } catch (error) {
      throw new ControlError(400, `Fedify could not parse the activity: ${error}`);
    }
    if (activity.actorId == null) activity = activity.clone({ actor: ctx.getActorUri(ALICE) });
    const result = await deliver(ctx, target, activity);
    result.activity = await activity.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader });
    return result;
  },
  async "POST fail-next"(body) {
    // The next `count` requests to `path` (any method unless given) answer `status`
    // without reaching Fedify: a peer's endpoint briefly failing, as real ones do.
    if (typeof body.path !== "string" || !body.path.startsWith("/")) {
      throw new ControlError(400, "path must be an absolute path such as /users/alice");
    }
    const fault = {
      method: body.method ?? null,
      path: body.path,
      status: body.status ?? 503,
      remaining: body.count ?? 1,
    };
    state.faults.push(fault);
    return { ok: true, fault };
  },
  async "POST fetch-key"(body) {
    // Fedify's fetchKey: resolves a key id (e.g. actor#main-key) to a CryptographicKey,
    // returning its owner and the public key as Fedify imported it (SPKI PEM).
    const ctx = aliceContext();
    const keyId = requireUrl(body, "keyId");
    const signed = body.signed ?? true;
    const loader = signed ? await ctx.getDocumentLoader({ identifier: ALICE }) : ctx.documentLoader;
    const attempts = [];
    try {
      const { key, cached } = await outgoingAttempts.run(attempts, () =>
        fetchKey(keyId, CryptographicKey, { documentLoader: loader, contextLoader: ctx.contextLoader }),
      );
      if (key == null) return { ok: false, signed, error: { name: "NotFound", message: keyId }, attempts };
      const spki = Buffer.from(await crypto.subtle.exportKey("spki", key.publicKey)).toString("base64");
      const pem = `-----BEGIN PUBLIC KEY-----\n${spki.match(/.{1,64}/g).join("\n")}\n-----END PUBLIC KEY-----\n`;
      return { ok: true, signed, id: key.id?.href ?? null, owner: key.ownerId?.href ?? null, publicKeyPem: pem, cached, attempts };
    } catch (error) {
      return { ok: false, signed, error: describeError(error), attempts };
    }
  },
  async "POST verify-proof"(body) {
    // Fedify's verifyProof (FEP-8b32, eddsa-jcs-2022) of a document's own `proof`: Fedify
    // fetches the key its verificationMethod names (a Multikey in the signer's actor).
    const ctx = aliceContext();
    const document = body.document;
    const p = document?.proof;
    if (p == null || typeof p.proofValue !== "string" || !p.proofValue.startsWith("z")) {
      return { ok: false, error: { name: "TypeError", message: "no eddsa-jcs-2022 proof" } };
    }
    const base58btc = baseX("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz");
    const proof = new DataIntegrityProof({
      cryptosuite: p.cryptosuite, verificationMethod: new URL(p.verificationMethod),
      proofPurpose: p.proofPurpose, proofValue: base58btc.decode(p.proofValue.slice(1)),
      created: Temporal.Instant.from(p.created),
    });
    const attempts = [];
    try {
      const key = await outgoingAttempts.run(attempts, () =>
        verifyProof(document, proof, { documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader }),
      );
      return { ok: key != null, key: key?.id?.href ?? null, controller: key?.controllerId?.href ?? null, attempts };
    } catch (error) {
      return { ok: false, error: describeError(error), attempts };
    }
  },
  async "POST fetch"(body) {
    // A GET of any URL, signed as alice by default, returning the raw document.
    const ctx = aliceContext();
    const url = requireUrl(body, "url");
    const signed = body.signed ?? true;
    const loader = signed ? await ctx.getDocumentLoader({ identifier: ALICE }) : ctx.documentLoader;
    const attempts = [];
    try {
      const doc = await outgoingAttempts.run(attempts, () => loader(url));
      return { ok: true, signed, url: doc.documentUrl, document: doc.document, attempts };
    } catch (error) {
      return { ok: false, signed, error: describeError(error), attempts };
    }
  },
  async "POST lookup"(body) {
    // Fedify's own lookup (parsing into its vocabulary), unsigned by default.
    const ctx = aliceContext();
    const url = requireUrl(body, "url");
    const signed = body.signed ?? false;
    const options = signed ? { documentLoader: await ctx.getDocumentLoader({ identifier: ALICE }) } : {};
    const attempts = [];
    try {
      const object = await outgoingAttempts.run(attempts, () => ctx.lookupObject(url, options));
      if (object == null) return { ok: false, signed, error: { name: "NotFound", message: url }, attempts };
      return {
        ok: true,
        signed,
        type: object.constructor.typeId?.href?.split("#").pop() ?? object.constructor.name,
        isActor: isActor(object),
        object: await object.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader }),
        attempts,
      };
    } catch (error) {
      return { ok: false, signed, error: describeError(error), attempts };
    }
  },
};

function requireUrl(body, field) {
  const value = body?.[field];
  try {
    return new URL(value).href;
  } catch {
    throw new ControlError(400, `${field} must be an absolute URL`);
  }
}

// ---------------------------------------------------------------------------
// node:http <-> Fetch API.
// ---------------------------------------------------------------------------

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function handleNodeRequest(req, res) {
  const host = req.headers.host ?? `${HOST}:${port}`;
  const url = new URL(req.url, `http://${host}`);
  const body = req.method === "GET" || req.method === "HEAD" ? null : await readBody(req);
  if (url.pathname.startsWith("/_control/")) {
    return handleControl(req.method, url.pathname.slice("/_control/".length), body, res);
  }
  if (injectFault(req, url, res)) return;
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const request = new Request(url, { method: req.method, headers, body });
  const entry = {
    method: req.method,
    path: url.pathname + url.search,
    scheme: signatureScheme(headers),
    headers: pickHeaders(headers),
    status: null,
    response: null,
  };
  state.requests.push(entry);
  const response = await inboundRequest.run(entry, () =>
    federation.fetch(request, { contextData: undefined }),
  );
  entry.status = response.status;
  const payload = Buffer.from(await response.arrayBuffer());
  if (response.status >= 400) entry.response = payload.toString("utf8").slice(0, 1000);
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(payload);
}

function injectFault(req, url, res) {
  const fault = state.faults.find(
    (f) => f.remaining > 0 && f.path === url.pathname && (f.method == null || f.method === req.method),
  );
  if (fault == null) return false;
  fault.remaining -= 1;
  const headers = new Headers(req.headers);
  state.requests.push({
    method: req.method,
    path: url.pathname + url.search,
    scheme: signatureScheme(headers),
    headers: pickHeaders(headers),
    status: fault.status,
    response: "injected failure",
    injected: true,
  });
  res.writeHead(fault.status, { "content-type": "text/plain" });
  res.end("injected failure");
  return true;
}

async function handleControl(method, route, body, res) {
  const handler = control[`${method} ${route}`];
  let status = 200;
  let result;
  if (handler == null) {
    status = 404;
    result = { error: `no control route ${method} /_control/${route}` };
  } else {
    try {
      const parsed = body != null && body.length > 0 ? JSON.parse(body.toString("utf8")) : {};
      result = await handler(parsed);
    } catch (error) {
      status = error instanceof ControlError ? error.status : error instanceof SyntaxError ? 400 : 500;
      result = { error: describeError(error) };
    }
  }
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(result));
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  });
}

// With --exit-on-stdin-eof the peer dies with whoever started it: the test
// harness holds the other end of stdin, and the pipe closes even on SIGKILL.
if (process.argv.includes("--exit-on-stdin-eof")) {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}

process.stdout.write(`READY ${port}\n`);
