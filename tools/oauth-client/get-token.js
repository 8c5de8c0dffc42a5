#!/usr/bin/env node
// get-token.js: obtains an access token by the OAuth 2.0 client-credentials
// grant with simple-oauth2, a standard OAuth client library, as an
// integrator would (test/t/084_gateway_oauth.pl runs it).  No custom code
// for our API: the token URL, the client's id and secret, and how it
// authenticates are all the library is told.
//
// Environment (the secret never goes on the command line, where ps shows
// it): OAUTH_TOKEN_HOST (http://127.0.0.1:8080), OAUTH_TOKEN_PATH
// (/api/v1/auth/token), OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET,
// OAUTH_AUTH_METHOD (body: client_id / client_secret in the form body;
// header: HTTP Basic), OAUTH_SCOPE (optional).
//
// Prints one JSON line: {"ok": true, "token": {access_token, token_type,
// expires_in, ...}} or {"ok": false, "status": <HTTP status>, "body":
// <the error body>}.  Exits 0 either way (the caller judges); 2 on a
// usage or transport error.
'use strict';

const { ClientCredentials } = require('simple-oauth2');

function env(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    if (fallback !== undefined) return fallback;
    process.stderr.write(`get-token.js: ${name} is not set\n`);
    process.exit(2);
  }
  return v;
}

async function main() {
  const client = new ClientCredentials({
    client: { id: env('OAUTH_CLIENT_ID'), secret: env('OAUTH_CLIENT_SECRET') },
    auth: { tokenHost: env('OAUTH_TOKEN_HOST'), tokenPath: env('OAUTH_TOKEN_PATH', '/api/v1/auth/token') },
    options: { authorizationMethod: env('OAUTH_AUTH_METHOD', 'header'), bodyFormat: 'form' },
  });
  const params = {};
  if (process.env.OAUTH_SCOPE) params.scope = process.env.OAUTH_SCOPE;
  try {
    const accessToken = await client.getToken(params);
    process.stdout.write(JSON.stringify({ ok: true, token: accessToken.token }) + '\n');
  } catch (err) {
    // simple-oauth2 rejects with the HTTP error (a Boom error from Wreck)
    // whose data carries the parsed error body.
    if (err && err.output && err.data) {
      let body = err.data.payload;
      if (Buffer.isBuffer(body)) body = JSON.parse(body.toString('utf8'));
      process.stdout.write(JSON.stringify({ ok: false, status: err.output.statusCode, body }) + '\n');
      return;
    }
    process.stderr.write(`get-token.js: ${err && err.message ? err.message : err}\n`);
    process.exit(2);
  }
}

main();
