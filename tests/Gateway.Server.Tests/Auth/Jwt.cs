using System.Buffers.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Server.Tests.Auth;

/// <summary>Reads a compact JWT as a client would (no library), and checks a signature in-process.</summary>
internal static class Jwt
{
    public static JsonElement Header(string token) => Part(token, 0);

    public static JsonElement Payload(string token) => Part(token, 1);

    /// <summary>The <c>role</c> claim as a list, whether the token carries one string or an array.</summary>
    public static IReadOnlyList<string> Roles(JsonElement payload) =>
        payload.GetProperty("role") is { ValueKind: JsonValueKind.Array } array
            ? array.EnumerateArray().Select(r => r.GetString()!).ToList()
            : [payload.GetProperty("role").GetString()!];

    public static async Task<bool> IsValidAsync(string token, byte[] key)
    {
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = "gateway",
            ValidAudience = "gateway",
            IssuerSigningKey = new SymmetricSecurityKey(key),
        });
        return result.IsValid;
    }

    private static JsonElement Part(string token, int index)
    {
        var parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        using var document = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[index]));
        return document.RootElement.Clone();
    }
}
