using Gateway.Contracts;
using Gateway.Data;
using Gateway.Data.Conversion;
using Gateway.Data.Entities;
using Gateway.Server.Events;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Server.Orchestration.Configurations;

/// <summary>
/// Configurations, admin only; the same service serves REST and the hub. Changes go through the change writer with
/// their events, in one transaction. A secret's value never leaves here in clear except through
/// <see cref="RevealAsync"/>, which logs the reveal (without the value) in the transaction that reads it: lists,
/// gets and set answers are masked, config.changed of a secret has no value, and no log line carries a value.
/// </summary>
internal sealed partial class ConfigurationService
{
    public const int MaxPageSize = 500;
    public const int MaxDescriptionLength = 10_000;

    private readonly ChangeWriter _writer;
    private readonly IDbContextFactory<GatewayDbContext> _contexts;
    private readonly ILogger<ConfigurationService> _logger;

    private readonly Database.SchemaValues _schema;

    public ConfigurationService(ChangeWriter writer, IDbContextFactory<GatewayDbContext> contexts, Database.SchemaValues schema, ILogger<ConfigurationService> logger)
    {
        _schema = schema;
        _writer = writer;
        _contexts = contexts;
        _logger = logger;
    }

    /// <summary>Creates or replaces <paramref name="key"/>; emits config.changed (with the value only when not secret).</summary>
    public async Task<SetConfigurationResult> SetAsync(Caller caller, string key, SetConfigurationRequest? request, CancellationToken cancellationToken)
    {
        RequireAdmin(caller);
        ConfigurationValueValidator.Key(key);
        if (request is null)
        {
            throw new InvalidInputException("$", "a configuration is required");
        }

        var type = ConfigurationValueValidator.Type(request.ValueType);
        if (!_schema.Allows(type))
        {
            throw new InvalidInputException(ConfigurationValueValidator.ValueTypeField, $"{StoreEnum.ToStoreValue(type)} cannot be stored: {_schema.Limit(type)}");
        }
        var value = ConfigurationValueValidator.Value(request.Value, type);
        var description = JsonInput.OptionalText(request.Description, "$.description", MaxDescriptionLength);

        var result = await _writer.ExecuteAsync(
            async (scope, token) =>
            {
                var entry = await scope.Db.Configurations.FirstOrDefaultAsync(c => c.Key == key, token);
                var created = entry is null;
                if (entry is null)
                {
                    entry = new ConfigurationEntry { Key = key, Value = value, CreatedAt = scope.Now };
                    scope.Db.Configurations.Add(entry);
                }

                entry.Value = value;
                entry.ValueType = type;
                entry.IsSecret = request.IsSecret ?? entry.IsSecret;
                if (description is not null)
                {
                    entry.Description = description.Length == 0 ? null : description;
                }

                entry.UpdatedAt = scope.Now;
                var valueType = StoreEnum.ToStoreValue(type);
                object payload = entry.IsSecret
                    ? new { key, value_type = valueType, is_secret = true, timestamp = scope.Now }
                    : new { key, value_type = valueType, is_secret = false, value, timestamp = scope.Now };
                scope.Emit(EventTypes.ConfigChanged, EventPriorities.Normal, payload);
                return new SetConfigurationResult(ConfigurationView.From(entry), created);
            },
            cancellationToken);
        LogSet(key, result.Configuration.ValueType, result.Configuration.IsSecret, result.Created, caller.UserId);
        return result;
    }

    public async Task<ConfigurationView> GetAsync(Caller caller, string key, CancellationToken cancellationToken)
    {
        RequireAdmin(caller);
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken);
        var entry = await db.Configurations.AsNoTracking().FirstOrDefaultAsync(c => c.Key == key, cancellationToken);
        return entry is null ? throw new NotFoundException("configuration", key) : ConfigurationView.From(entry);
    }

    /// <summary>Ordered by key. <paramref name="prefix"/> is case-sensitive (SQLite's LIKE is not, so it is not used).</summary>
    public async Task<ConfigurationPage> ListAsync(
        Caller caller, string? valueType, string? prefix, int page, int pageSize, CancellationToken cancellationToken)
    {
        RequireAdmin(caller);
        if (page is < 1 or > Paging.MaxPage)
        {
            throw new InvalidInputException("page", $"must be from 1 to {Paging.MaxPage}");
        }

        if (pageSize is < 1 or > MaxPageSize)
        {
            throw new InvalidInputException("pageSize", $"must be from 1 to {MaxPageSize}");
        }

        if (prefix is { Length: > ConfigurationValueValidator.MaxKeyLength })
        {
            throw new InvalidInputException("prefix", $"must be at most {ConfigurationValueValidator.MaxKeyLength} characters");
        }

        await using var db = await _contexts.CreateDbContextAsync(cancellationToken);
        var rows = db.Configurations.AsNoTracking();
        if (valueType is not null)
        {
            var type = ConfigurationValueValidator.Type(valueType, "valueType");
            rows = rows.Where(c => c.ValueType == type);
        }

        if (!string.IsNullOrEmpty(prefix))
        {
            var length = prefix.Length;
            rows = rows.Where(c => c.Key.Substring(0, length) == prefix);
        }

        var total = await rows.CountAsync(cancellationToken);
        var items = await rows.OrderBy(c => c.Key).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(cancellationToken);
        return new ConfigurationPage([.. items.Select(ConfigurationView.From)], page, pageSize, total);
    }

    /// <summary>Deletes <paramref name="key"/>; emits config.deleted. 404 when there is none.</summary>
    public async Task<bool> DeleteAsync(Caller caller, string key, CancellationToken cancellationToken)
    {
        RequireAdmin(caller);
        await _writer.ExecuteAsync(
            async (scope, token) =>
            {
                var entry = await scope.Db.Configurations.FirstOrDefaultAsync(c => c.Key == key, token) ?? throw new NotFoundException("configuration", key);
                scope.Db.Configurations.Remove(entry);
                scope.Emit(
                    ConfigurationEventTypes.Deleted,
                    EventPriorities.Normal,
                    new { key, value_type = StoreEnum.ToStoreValue(entry.ValueType), is_secret = entry.IsSecret, timestamp = scope.Now });
                return true;
            },
            cancellationToken);
        LogDeleted(key, caller.UserId);
        return true;
    }

    /// <summary>
    /// The value in clear. For a secret the reveal is recorded as config.secret_revealed (key, revealed_by, timestamp;
    /// never the value) in the transaction that reads it: no value is returned unless its reveal is committed. A
    /// non-secret value is returned without an event (it is shown in clear anyway).
    /// </summary>
    public async Task<RevealedConfigurationValue> RevealAsync(Caller caller, string key, CancellationToken cancellationToken)
    {
        RequireAdmin(caller);
        var revealed = await _writer.ExecuteAsync(
            async (scope, token) =>
            {
                var entry = await scope.Db.Configurations.AsNoTracking().FirstOrDefaultAsync(c => c.Key == key, token)
                    ?? throw new NotFoundException("configuration", key);
                if (entry.IsSecret)
                {
                    scope.Emit(ConfigurationEventTypes.SecretRevealed, EventPriorities.High, new { key, revealed_by = caller.UserId, timestamp = scope.Now });
                }

                return (View: new RevealedConfigurationValue(entry.Key, StoreEnum.ToStoreValue(entry.ValueType), entry.Value), entry.IsSecret);
            },
            cancellationToken);
        if (revealed.IsSecret)
        {
            LogRevealed(key, caller.UserId);
        }

        return revealed.View;
    }

    private static void RequireAdmin(Caller caller)
    {
        if (!caller.IsAdmin)
        {
            throw new ForbiddenException("configurations require the role admin");
        }
    }

    [LoggerMessage(EventId = 4401, Level = LogLevel.Information, Message = "Configuration {Key} set by {UserId} (value_type {ValueType}, secret: {IsSecret}, new: {Created})")]
    private partial void LogSet(string key, string valueType, bool isSecret, bool created, string userId);

    [LoggerMessage(EventId = 4402, Level = LogLevel.Information, Message = "Configuration {Key} deleted by {UserId}")]
    private partial void LogDeleted(string key, string userId);

    [LoggerMessage(EventId = 4403, Level = LogLevel.Information, Message = "The secret configuration {Key} was revealed to {UserId}")]
    private partial void LogRevealed(string key, string userId);
}
