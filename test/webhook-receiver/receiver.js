// The webhook receiver of the TAP tests test/t/09x_webhooks*.pl.
//
// Records every POST it gets (headers of Standard Webhooks, body, what it
// answered) and verifies signatures with the standardwebhooks npm package,
// independently of the engine's signing code.  Each path is an endpoint of
// its own; a test scripts how a path answers its next requests:
//   POST /_control/script   {"path": "/a", "actions": ["500", "hang", "close"]}
//       answers the next requests to /a so, one action each, then "ok":
//       ok (200), slow (200 after 500 ms), 500, redirect (302 to
//       /elsewhere), hang (never answers), close (drops the connection
//       without an answer);
//   POST /_control/secret   {"path": "/a", "secret": "whsec_..."}
//       a signing secret of /a (several: any of them may verify);
//   GET  /_control/received?path=/a
//       what /a received, in arrival order, each with "verified" (a
//       signature checks with one of the secrets; standardwebhooks also
//       rejects a timestamp more than 5 minutes off).
// Usage: node receiver.js PORT_FILE   (listens on 127.0.0.1, any free port,
// and writes the port to PORT_FILE once listening).  Prints nothing: the
// bodies and secrets it sees stay out of test output.
'use strict';
const fs = require('fs');
const http = require('http');
const { Webhook } = require('standardwebhooks');

const scripts = new Map();   // path -> actions still to play
const secrets = new Map();   // path -> [secret]
const received = new Map();  // path -> [record]
const hanging = new Set();

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

function verified(path, record) {
  for (const secret of secrets.get(path) || []) {
    try {
      new Webhook(secret).verify(record.body, {
        'webhook-id': record.webhook_id,
        'webhook-timestamp': record.webhook_timestamp,
        'webhook-signature': record.webhook_signature,
      });
      return true;
    } catch (e) {
      // not this secret
    }
  }
  return false;
}

function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

async function control(req, res, url) {
  if (req.method === 'GET' && url.pathname === '/_control/received') {
    const path = url.searchParams.get('path');
    return json(res, 200, (received.get(path) || []).map((r) => ({ ...r, verified: verified(path, r) })));
  }
  let args;
  try {
    args = JSON.parse(await readBody(req));
  } catch (e) {
    return json(res, 400, { error: 'bad JSON' });
  }
  if (url.pathname === '/_control/script') {
    scripts.set(args.path, (scripts.get(args.path) || []).concat(args.actions));
    return json(res, 200, { ok: true });
  }
  if (url.pathname === '/_control/secret') {
    secrets.set(args.path, (secrets.get(args.path) || []).concat([args.secret]));
    return json(res, 200, { ok: true });
  }
  return json(res, 404, { error: 'no such control' });
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://receiver');
  if (url.pathname.startsWith('/_control/')) {
    return control(req, res, url);
  }
  const body = await readBody(req);
  const queue = scripts.get(url.pathname) || [];
  const action = queue.length > 0 ? queue.shift() : 'ok';
  const list = received.get(url.pathname) || [];
  list.push({
    method: req.method,
    at: Date.now(),
    answer: action,
    webhook_id: req.headers['webhook-id'],
    webhook_timestamp: req.headers['webhook-timestamp'],
    webhook_signature: req.headers['webhook-signature'],
    content_type: req.headers['content-type'],
    user_agent: req.headers['user-agent'],
    body,
  });
  received.set(url.pathname, list);
  switch (action) {
    case '500':
      return json(res, 500, { error: 'scripted failure' });
    case 'redirect':
      res.writeHead(302, { location: '/elsewhere' });
      return res.end();
    case 'close':
      return req.socket.destroy();
    case 'slow':
      return setTimeout(() => json(res, 200, { received: true }), 500);
    case 'hang':
      hanging.add(req.socket);
      req.socket.on('close', () => hanging.delete(req.socket));
      return undefined;
    default:
      return json(res, 200, { received: true });
  }
});
server.keepAliveTimeout = 1000;
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(process.argv[2] + '.tmp', String(server.address().port));
  fs.renameSync(process.argv[2] + '.tmp', process.argv[2]);
});
process.on('SIGTERM', () => {
  for (const s of hanging) s.destroy();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
});
