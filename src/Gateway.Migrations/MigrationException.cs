namespace Gateway.Migrations;

/// <summary>Why a migration command refused or failed. The message is one line, fit for stderr.</summary>
public enum MigrationErrorKind
{
    SourceMissing,
    BadFileName,
    DuplicateVersion,
    Dirty,
    ChecksumMismatch,
    VersionMissing,
    UnknownTargetVersion,
    TargetVersionTooOld,
    TargetVersionTooNew,
    NotReversible,
    ExecutionFailed,
    BadDatabaseUrl,
    UnsupportedDatabase,
}

public sealed class MigrationException : Exception
{
    public MigrationException(MigrationErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public MigrationErrorKind Kind { get; }
}
