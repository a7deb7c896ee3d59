// Real Node.js clients against a live `mergetree serve`, driven by tests/clients/test_node_clients.py.
// 1. The plain fetch code of the README/issue, with only the host changed.
// 2. @chronark/zod-bird (typed ingest + typed pipe), unmodified.
// Prints one JSON object with what each client got; the Python test asserts on it.
import { Tinybird } from "@chronark/zod-bird";
import { z } from "zod";

const HOST = process.env.MT_HOST;
const TOKEN = process.env.MT_TOKEN;             // admin
const TRACKER = process.env.MT_TRACKER;         // TOKEN "tracker" APPEND (events.datasource)
const DASHBOARD = process.env.MT_DASHBOARD;     // TOKEN "dashboard" READ (the pipes)
const now = () => new Date().toISOString().slice(0, 19).replace("T", " ");
const out = {};

// ---- 1. plain fetch, exactly as in the quickstart
{
  const r1 = await fetch(HOST + "/v0/events?name=events&wait=true", {
    method: "POST",
    headers: { Authorization: "Bearer " + TOKEN },
    body: JSON.stringify({ event_id: "n1", user_id: "user_123", event_type: "signup",
                           properties: JSON.stringify({ plan: "free" }), timestamp: now() }),
  });
  out.fetch_ingest = { status: r1.status, body: await r1.json() };
  const r2 = await fetch(HOST + "/v0/pipes/user_activity.json?user_id=user_123&days=30", {
    headers: { Authorization: "Bearer " + TOKEN },
  });
  out.fetch_pipe = { status: r2.status, body: await r2.json() };
  const r3 = await fetch(HOST + "/v0/pipes/user_activity.json?days=30", { headers: { Authorization: "Bearer " + TOKEN } });
  out.fetch_missing_param = { status: r3.status, body: await r3.json() };
  const r4 = await fetch(HOST + "/v0/events?name=events", { method: "POST", body: "{}" });
  out.fetch_no_token = { status: r4.status, body: await r4.json() };
}

// ---- 2. zod-bird
{
  const ingestTb = new Tinybird({ token: TRACKER, baseUrl: HOST });
  const readTb = new Tinybird({ token: DASHBOARD, baseUrl: HOST });
  const ingest = ingestTb.buildIngestEndpoint({
    datasource: "events",
    wait: true,
    event: z.object({
      event_id: z.string(),
      user_id: z.string(),
      event_type: z.string(),
      properties: z.string().default("{}"),
      timestamp: z.string(),
    }),
  });
  out.zod_ingest_one = await ingest({ event_id: "z1", user_id: "zod_user", event_type: "click", timestamp: now() });
  out.zod_ingest_many = await ingest([
    { event_id: "z2", user_id: "zod_user", event_type: "click", timestamp: now() },
    { event_id: "z3", user_id: "zod_user", event_type: "view", timestamp: now() },
  ]);
  const activity = readTb.buildPipe({
    pipe: "user_activity",
    parameters: z.object({ user_id: z.string(), days: z.number().int().optional() }),
    data: z.object({ event_type: z.string(), events: z.number(), last_seen: z.string() }),
  });
  const res = await activity({ user_id: "zod_user", days: 7 });
  out.zod_pipe = { data: res.data, meta: res.meta, rows: res.rows, statistics: res.statistics };
  const dau = readTb.buildPipe({
    pipe: "daily_active_users",
    data: z.object({ day: z.string(), active_users: z.number() }),
  });
  out.zod_dau = (await dau({})).data;
  try {
    await ingestTb.buildPipe({ pipe: "user_activity", data: z.object({}) })({});
    out.zod_forbidden = "no error";
  } catch (e) {
    out.zod_forbidden = String(e.message);
  }
}

console.log(JSON.stringify(out));
