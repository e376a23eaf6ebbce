using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Server.Events;

/// <summary>Pages of the event log bounded in events and in bytes (<see cref="ConnectionEventStream.CostOf"/>): a page of large events is cut short.</summary>
internal static class EventLogPages
{
    public const int MaxEvents = 500;

    /// <param name="ordered">The events to read, in id order.</param>
    public static async Task<List<EventLogEntry>> ReadAsync(IQueryable<EventLogEntry> ordered, long maxBytes, CancellationToken cancellationToken)
    {
        var page = new List<EventLogEntry>();
        var bytes = 0L;
        await foreach (var entry in ordered.Take(MaxEvents).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            page.Add(entry);
            bytes += ConnectionEventStream.CostOf(entry);
            if (bytes >= maxBytes)
            {
                break;
            }
        }

        return page;
    }
}
