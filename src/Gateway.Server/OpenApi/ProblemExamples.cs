using System.Text.Json.Nodes;

namespace Gateway.Server.OpenApi;

/// <summary>What the gateway's problem answers look like, for the document's readers.</summary>
internal static class ProblemExamples
{
    public static readonly JsonNode Validation = JsonNode.Parse(
        """
        {
          "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
          "title": "One or more validation errors occurred.",
          "status": 400,
          "errors": { "status": ["must be one of pending, queued, running, paused, completed, failed, cancelled"] }
        }
        """)!;

    public static readonly JsonNode NotFound = JsonNode.Parse(
        """
        {
          "type": "https://tools.ietf.org/html/rfc9110#section-15.5.5",
          "title": "Not Found",
          "status": 404,
          "detail": "Task 0193a3c2-7f4e-7d2a-9a51-2f7f0c6f4b11 does not exist."
        }
        """)!;

    public static readonly JsonNode Conflict = JsonNode.Parse(
        """
        {
          "type": "https://tools.ietf.org/html/rfc9110#section-15.5.10",
          "title": "Conflict",
          "status": 409,
          "detail": "Task 0193a3c2-7f4e-7d2a-9a51-2f7f0c6f4b11 cannot go from completed to running."
        }
        """)!;

    public static readonly JsonNode RateLimited = JsonNode.Parse(
        """
        {
          "type": "https://tools.ietf.org/html/rfc6585#section-4",
          "title": "Too many requests",
          "status": 429,
          "detail": "Too many changes by this user (RateLimits:WritesPerSecond); retry in 1 s.",
          "code": "rate_limited"
        }
        """)!;
}
