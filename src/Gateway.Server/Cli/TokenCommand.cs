using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Gateway.Contracts;
using Gateway.Server.Auth;
using Gateway.Server.Database;

namespace Gateway.Server.Cli;

/// <summary>
/// <c>token create --user U --role R [--role R2 ...] [--ttl T]</c>: mints a bearer token with the gateway's own key
/// (Auth:SigningKey or the key file in Database:DataDirectory, as the server resolves it) and prints only the
/// token, so <c>TOKEN=$(Gateway.Server token create ...)</c> works.
/// </summary>
internal static class TokenCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var token = new Command("token", "Mint bearer tokens for the gateway's clients, signed with the gateway's own key.");
        token.Subcommands.Add(CreateToken(output, error));
        return token;
    }

    private static Command CreateToken(TextWriter output, TextWriter error)
    {
        var user = new Option<string>("--user", "-u") { Description = "The user id, the token's sub claim (e.g. alice).", Required = true };
        var roles = new Option<string[]>("--role", "-r")
        {
            Description = $"A role of the user: {string.Join(", ", GatewayRoles.All)}. Repeat for more than one.",
            Required = true,
        };
        var ttl = new Option<TimeSpan>("--ttl")
        {
            Description = "How long the token is valid: 30m, 12h, 7d, 3600s or a TimeSpan such as 01:30:00; at most 365d.",
            HelpName = "duration",
            DefaultValueFactory = _ => TimeSpan.FromHours(12),
            CustomParser = ParseTtl,
        };
        var command = new Command("create", "Print a signed token (HS256) for a user and roles; nothing else goes to stdout.") { user, roles, ttl };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var userId = parse.GetValue(user)!;
            var roleList = parse.GetValue(roles) ?? [];
            var lifetime = parse.GetValue(ttl);
            if (TokenIssuer.Check(userId, roleList, lifetime) is { } problem)
            {
                await error.WriteLineAsync($"error: {problem}");
                return GatewayCommandLine.Usage;
            }

            var configuration = CliConfiguration.Load();
            var auth = configuration.GetSection(AuthOptions.SectionName).Get<AuthOptions>() ?? new AuthOptions();
            if (auth.UsesExternalAuthority)
            {
                await error.WriteLineAsync(
                    $"error: Auth:Authority is set ({auth.Authority}): the gateway accepts that authority's tokens and mints none of its own; "
                    + "get a token from the authority, or clear Auth:Authority to use the gateway's own tokens");
                return GatewayCommandLine.Failed;
            }

            if (AuthOptionsValidator.Failures(auth).FirstOrDefault() is { } invalid)
            {
                await error.WriteLineAsync($"error: {invalid}");
                return GatewayCommandLine.Failed;
            }

            try
            {
                var database = configuration.GetSection(DatabaseOptions.SectionName).Get<DatabaseOptions>() ?? new DatabaseOptions();
                var issuer = new TokenIssuer(auth, new SigningKeyStore(auth, database), TimeProvider.System);
                await output.WriteLineAsync(issuer.Create(userId, roleList, lifetime).AsMemory(), cancellationToken);
                return GatewayCommandLine.Ok;
            }
            catch (SigningKeyException exception)
            {
                await error.WriteLineAsync($"error: {exception.Message}");
                return GatewayCommandLine.Failed;
            }
        });
        return command;
    }

    private static TimeSpan ParseTtl(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
        if (TokenLifetime.TryParse(text, out var lifetime, out var problem))
        {
            return lifetime;
        }

        result.AddError($"--ttl {text}: {problem}");
        return default;
    }
}

/// <summary>The forms of <c>--ttl</c>: a count with a unit (<c>30m</c>, <c>12h</c>, <c>7d</c>, <c>3600s</c>) or a TimeSpan (<c>01:00:00</c>, <c>7.00:00:00</c>).</summary>
internal static class TokenLifetime
{
    private const string Forms = "use e.g. 30m, 12h, 7d, 3600s or 01:00:00";

    public static bool TryParse(string text, out TimeSpan lifetime, out string problem)
    {
        lifetime = default;
        text = text.Trim();
        if (text.Length >= 2 && "smhd".Contains(char.ToLowerInvariant(text[^1]), StringComparison.Ordinal)
            && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            var seconds = char.ToLowerInvariant(text[^1]) switch { 's' => 1L, 'm' => 60L, 'h' => 3600L, _ => 86400L };
            // Compare before multiplying: a huge count must not overflow into an accepted value.
            if (count > TokenIssuer.MaximumLifetime.TotalSeconds / seconds)
            {
                problem = $"longer than the maximum of {TokenIssuer.MaximumLifetime.TotalDays:0}d";
                return false;
            }

            lifetime = TimeSpan.FromSeconds(count * seconds);
        }
        else if (text.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span))
        {
            lifetime = span;
        }
        else
        {
            // A bare number is refused: TimeSpan would read "30" as thirty days.
            problem = $"not a duration; {Forms}";
            return false;
        }

        if (lifetime <= TimeSpan.Zero)
        {
            problem = $"must be longer than zero; {Forms}";
            return false;
        }

        if (lifetime > TokenIssuer.MaximumLifetime)
        {
            problem = $"longer than the maximum of {TokenIssuer.MaximumLifetime.TotalDays:0}d";
            return false;
        }

        problem = string.Empty;
        return true;
    }
}
