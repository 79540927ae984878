// SPDX-License-Identifier: MIT
// Node.js with the pg package (the extended query protocol, unnamed and named
// statements) against the PostgreSQL of tests/integration/test_postgres.py.
// Usage: node pg_client.js PORT PASSWORD SECRET
const { Client } = require("pg");

async function main() {
  const [port, password, secret] = process.argv.slice(2);
  const c = new Client({ host: "127.0.0.1", port: Number(port), user: "app_zq", password,
                         database: "shop" });
  await c.connect();
  await c.query("SELECT count(*) FROM orders WHERE note = $1", [secret]);
  for (let i = 0; i < 3; i++)
    await c.query({ name: "by_id", text: "SELECT id FROM orders WHERE id = $1", values: [i] });
  await c.query("UPDATE orders SET note = $1 WHERE id = $2", [secret, 1]);
  try {
    await c.query("SELEC 1");
    process.exit(1);
  } catch (e) {
    if (e.code !== "42601") process.exit(1);
  }
  await c.end();
  console.log("done");
}

main().catch((e) => { console.error(e); process.exit(1); });
