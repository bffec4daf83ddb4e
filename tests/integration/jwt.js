#!/usr/bin/env node
// jwt.js: makes a JSON Web Token for the proxy tests, with Node's own crypto.
//
//   jwt.js ALG KEY CLAIMS_JSON [HEADER_JSON]
//
// ALG is HS256 (KEY is the shared secret), RS256 or ES256 (KEY is a PEM private key file),
// or none (no signature). Prints the token.
'use strict';
const crypto = require('crypto');
const fs = require('fs');

const [alg, key, claims, header] = process.argv.slice(2);
const b64 = (buf) => Buffer.from(buf).toString('base64url');
const head = header ? JSON.parse(header) : { alg, typ: 'JWT' };
const input = `${b64(JSON.stringify(head))}.${b64(claims)}`;
let sig = '';
if (alg === 'HS256') {
  sig = b64(crypto.createHmac('sha256', key).update(input).digest());
} else if (alg === 'RS256' || alg === 'ES256') {
  const pem = fs.readFileSync(key);
  sig = b64(crypto.sign('sha256', Buffer.from(input), { key: pem, dsaEncoding: 'ieee-p1363' }));
}
process.stdout.write(`${input}.${sig}\n`);
