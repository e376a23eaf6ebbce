namespace Gateway.Server.Auth;

/// <summary>The signing key cannot be had. The message is one line that says what to do, fit for stderr.</summary>
public sealed class SigningKeyException : Exception
{
    public SigningKeyException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
