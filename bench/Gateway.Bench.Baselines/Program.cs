using Gateway.Bench.Baselines;

// b1 --urls URL : bare SignalR hub (no database, no auth) with the gateway's method names and records.
// b1 --urls URL --jwt-key KEY : B1+JWT, B1 behind JwtBearer with the gateway's validation rules.
// b2 --urls URL --database PATH : B1 that commits each status change (raw SQLite, group commit) before broadcasting it.
// b0 --urls URL : bare Kestrel WebSocket endpoint (hello on connect, echo, broadcast).
// c DB SECONDS BATCH CONCURRENCY : raw Microsoft.Data.Sqlite status changes into the gateway's schema; prints JSON.
// c-pg CONNECTION-STRING SECONDS BATCH TASKS [--lock] : the same with raw Npgsql on PostgreSQL (--lock: with the event log's advisory lock).
return args.FirstOrDefault() switch
{
    "b1" or "b2" => await BareHub.RunAsync(args[1..]),
    "b0" => await BareWebSocket.RunAsync(args[1..]),
    "c" => await RawSqlite.RunAsync(args[1..]),
    "c-pg" => await RawNpgsql.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Gateway.Bench.Baselines b1|b0 [--urls URL] [--jwt-key KEY] | b2 --urls URL --database PATH | c DB SECONDS BATCH TASKS");
    return 2;
}
