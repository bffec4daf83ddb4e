// latency.mjs: one keep-alive client asking the repository a small question (the count of
// tags, a database query) as fast as it answers, for SECONDS; prints the median and the
// 99th percentile in milliseconds. bench/backup_run runs it with and without a backup.
//   node latency.mjs SITE_DIR BASE_URL SECONDS
import fs from 'node:fs';
import https from 'node:https';

const [site, base, seconds] = process.argv.slice(2);
const xrf = 'abcdefghijklmnop';
const agent = new https.Agent({
  keepAlive: true,
  maxSockets: 1,
  ca: fs.readFileSync(`${site}/certs/root.pem`),
  cert: fs.readFileSync(`${site}/certs/client.pem`),
  key: fs.readFileSync(`${site}/certs/client_key.pem`),
});
const url = `${base}/qrs/tag/count?xrfkey=${xrf}`;
const get = () =>
  new Promise((resolve, reject) => {
    https
      .get(url, { agent, headers: { 'X-Qlik-Xrfkey': xrf } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      })
      .on('error', reject);
  });
const times = [];
const end = Date.now() + Number(seconds) * 1000;
while (Date.now() < end) {
  const t = process.hrtime.bigint();
  await get();
  times.push(Number(process.hrtime.bigint() - t) / 1e6);
}
times.sort((a, b) => a - b);
const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
console.log(`${at(0.5).toFixed(3)}\t${at(0.99).toFixed(3)}\t${times.length}`);
agent.destroy();
