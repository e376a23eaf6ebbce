namespace Gateway.Server.Events;

/// <summary>How the change writer saves a change's rows inside its group's transaction.</summary>
internal enum ChangeSaving
{
    /// <summary>Saved on its own right after it runs, on a cleared change tracker: the change may query anything.</summary>
    Alone,

    /// <summary>
    /// May be saved by one SaveChanges with the shared changes queued next to it. Its reads then have to see what
    /// those wrote before it without a save in between, so it reads the rows it changes only through tracking
    /// queries by key (EF Core returns the tracked instance, changed values included) or overlays the change tracker
    /// (as <see cref="Orchestration.Workflows.WorkflowProgress"/> does), and anything else it reads is changed by
    /// changes saved <see cref="Alone"/> only (they save what came before them first).
    /// </summary>
    Shared,
}
