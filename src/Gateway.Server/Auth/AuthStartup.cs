using Microsoft.Extensions.Options;

namespace Gateway.Server.Auth;

/// <summary>
/// At start, before the server listens: resolves the signing key (creating the key file if need be, so a broken
/// key file stops the start rather than the first request) and says how tokens are checked, warning when
/// anonymous access is on.
/// </summary>
internal sealed partial class AuthStartup : IHostedLifecycleService
{
    private readonly AuthOptions _options;
    private readonly SigningKeyStore _keys;
    private readonly ILogger<AuthStartup> _logger;

    public AuthStartup(IOptions<AuthOptions> options, SigningKeyStore keys, ILogger<AuthStartup> logger)
    {
        _options = options.Value;
        _keys = keys;
        _logger = logger;
    }

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (_options.UsesExternalAuthority)
        {
            LogExternalAuthority(_options.Authority, _options.Audience);
        }
        else
        {
            switch (_keys.Source)
            {
                case SigningKeySource.Configured:
                    LogConfiguredKey(_options.Issuer, _options.Audience);
                    break;
                case SigningKeySource.CreatedKeyFile:
                    LogCreatedKeyFile(_keys.KeyFilePath, _options.Issuer, _options.Audience);
                    break;
                default:
                    LogKeyFile(_keys.KeyFilePath, _options.Issuer, _options.Audience);
                    break;
            }
        }

        if (_options.AllowAnonymous)
        {
            LogAnonymousAllowed(string.Join(", ", _options.EffectiveAnonymousRoles));
        }

        return Task.CompletedTask;
    }

    /// <summary>Validates the "Auth" settings and resolves the signing key; false (each reason logged) when the server must not start.</summary>
    public static bool Check(IServiceProvider services)
    {
        var logger = services.GetRequiredService<ILogger<AuthStartup>>();
        try
        {
            if (!services.GetRequiredService<IOptions<AuthOptions>>().Value.UsesExternalAuthority)
            {
                _ = services.GetRequiredService<SigningKeyStore>().Key;
            }

            return true;
        }
        catch (OptionsValidationException exception)
        {
            foreach (var failure in exception.Failures)
            {
                LogRefused(logger, failure);
            }

            return false;
        }
        catch (SigningKeyException exception)
        {
            LogRefused(logger, exception.Message);
            return false;
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 2000, Level = LogLevel.Critical, Message = "Refusing to start: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Auth:AllowAnonymous is on: a request without a token is user 'anonymous' with roles {Roles} "
        + "(Auth:AnonymousRoles; admin, which reveals secrets, only when listed there). For local development only; turn it off on any server others can reach")]
    private partial void LogAnonymousAllowed(string roles);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Accepting tokens signed with the key file {KeyFile} (issuer {Issuer}, audience {Audience})")]
    private partial void LogKeyFile(string keyFile, string issuer, string audience);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Created the signing key file {KeyFile}; accepting tokens signed with it (issuer {Issuer}, audience {Audience})")]
    private partial void LogCreatedKeyFile(string keyFile, string issuer, string audience);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "Accepting tokens signed with Auth:SigningKey (issuer {Issuer}, audience {Audience})")]
    private partial void LogConfiguredKey(string issuer, string audience);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "Accepting tokens from the authority {Authority} (audience {Audience})")]
    private partial void LogExternalAuthority(string authority, string audience);
}
