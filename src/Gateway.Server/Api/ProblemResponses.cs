using Gateway.Contracts;
using Microsoft.AspNetCore.Mvc;

namespace Gateway.Server.Api;

internal static class ProblemResponses
{
    /// <summary>
    /// A refusal with a stable <paramref name="code"/>: problem details, or, to a client that accepts no JSON (an
    /// EventSource asks for text/event-stream only), the same as <c>code: detail</c> text, as hub errors read.
    /// </summary>
    public static async Task WriteAsync(IProblemDetailsService problems, HttpContext context, int status, string title, string code, string detail)
    {
        context.Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        problem.Extensions["code"] = code;
        if (!await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }))
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync($"{code}: {detail}", context.RequestAborted);
        }
    }
}
