using System.CommandLine;
using System.CommandLine.Parsing;

namespace Gateway.Samples;

/// <summary>Options both verbs take.</summary>
internal static class CommonOptions
{
    public static Option<Uri> Url() => new("--url")
    {
        Description = "The gateway's base address, e.g. http://127.0.0.1:5080.",
        Required = true,
        CustomParser = ParseUrl,
    };

    public static Option<string> Token() => new("--token")
    {
        Description = "A bearer token (dotnet run --project src/Gateway.Server -- token create --user U --role R).",
        Required = true,
    };

    private static Uri ParseUrl(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
        if (Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
        {
            return url;
        }

        result.AddError($"--url {text}: an absolute http or https address is needed, e.g. http://127.0.0.1:5080");
        return null!;
    }
}
