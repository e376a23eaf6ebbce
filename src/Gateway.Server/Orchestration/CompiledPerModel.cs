using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Gateway.Server.Orchestration;

/// <summary>
/// An EF Core compiled query, compiled once per model: a compiled query refuses to run on another model than the one it
/// first ran with, and each provider builds its own (one process may host a SQLite and a PostgreSQL gateway, as the
/// tests do).
/// </summary>
internal sealed class CompiledPerModel<TQuery>(Func<TQuery> compile)
    where TQuery : class
{
    private readonly ConditionalWeakTable<IModel, TQuery> _byModel = [];

    public TQuery For(DbContext db) => _byModel.GetValue(db.Model, _ => compile());
}
