namespace Gateway.Server.Dashboard;

internal static partial class DashboardLog
{
    [LoggerMessage(EventId = 9001, Level = LogLevel.Warning, Message = "No dashboard at {Folder}: the build copies it there (it needs npm); serving the gateway without it")]
    public static partial void FolderMissing(ILogger logger, string folder);
}
