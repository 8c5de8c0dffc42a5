// The webhook bench's receiver (bench/webhooks/run.sh): answers every POST
// with 204 at once and records, per delivery, the webhook-id and the time
// it was received: webhook-id, path (the endpoint), epoch seconds with
// microseconds, one line each, to the file
// given.  It verifies no signature (the TAP tests do, with
// test/webhook-receiver/): it stands for a receiver that costs nothing.
// Listens on 127.0.0.1, any free port; prints "port N" when ready.
'use strict';
const http = require('http');
const fs = require('fs');
const { performance } = require('perf_hooks');

const out = fs.createWriteStream(process.argv[2]);
const server = http.createServer((req, res) => {
	// the time the request's headers arrived, before reading its body
	const at = (performance.timeOrigin + performance.now()) / 1000;
	const id = req.headers['webhook-id'] || '-';
	req.resume();
	req.on('end', () => {
		out.write(`${id}\t${req.url}\t${at.toFixed(6)}\n`);
		res.writeHead(204);
		res.end();
	});
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => {
	process.stdout.write(`port ${server.address().port}\n`);
});
process.on('SIGTERM', () => { server.closeAllConnections(); out.end(() => process.exit(0)); });

