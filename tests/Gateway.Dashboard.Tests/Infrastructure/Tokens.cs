using System.Security.Claims;
using System.Text;
using Gateway.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Dashboard.Tests.Infrastructure;

public static class Tokens
{
    /// <summary>A token the test servers would accept but for its expiry, a minute ago.</summary>
    public static string Expired(string userId, string role)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", userId), new Claim("role", role)]),
            Issuer = "gateway",
            Audience = "gateway",
            IssuedAt = now.AddMinutes(-2),
            NotBefore = now.AddMinutes(-2),
            Expires = now.AddMinutes(-1),
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Encoding.UTF8.GetBytes(GatewayTestServer.SigningKey)), SecurityAlgorithms.HmacSha256),
        });
    }
}
