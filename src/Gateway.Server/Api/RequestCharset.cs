using System.Text;
using Microsoft.Net.Http.Headers;

namespace Gateway.Server.Api;

/// <summary>
/// The charset of a request body, settled before an endpoint reads it. The framework's JSON reader throws (a 500) on a
/// charset it does not know and on a quoted one, which HTTP allows (<c>charset="utf-8"</c>): a quoted charset is
/// unquoted, an unknown one is refused with 415 and code <c>unsupported_media_type</c>, and a known one other than
/// UTF-8 is left to the framework, which transcodes it.
/// </summary>
internal static class RequestCharset
{
    public const string UnsupportedMediaType = "unsupported_media_type";

    public static IApplicationBuilder UseGatewayRequestCharset(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.ContentType is { } contentType
            && MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            && mediaType.Charset is { HasValue: true } charset)
        {
            var name = HeaderUtilities.RemoveQuotes(charset).ToString();
            if (!IsKnown(name))
            {
                var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
                var shown = name.Length <= 40 && !name.Any(char.IsControl) ? $"'{name}'" : "in the Content-Type";
                await ProblemResponses.WriteAsync(
                    problems, context, StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", UnsupportedMediaType,
                    $"The charset {shown} is not one the gateway can read; send UTF-8 (charset=utf-8, or no charset).");
                return;
            }

            if (name.Length != charset.Length)
            {
                mediaType.Charset = name;
                context.Request.ContentType = mediaType.ToString();
            }
        }

        await next(context);
    });

    private static bool IsKnown(string name)
    {
        if (name.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        try
        {
            _ = Encoding.GetEncoding(name);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
