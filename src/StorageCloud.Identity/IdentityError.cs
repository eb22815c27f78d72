namespace StorageCloud.Identity;

/// <summary>
/// A refusal in Keystone's terms: the status, its title and the message that goes into
/// {"error": {"code", "title", "message"}}. Thrown by the domain code, answered by the API.
/// </summary>
public sealed class IdentityError(int status, string message) : Exception(message)
{
    /// <summary>The HTTP status.</summary>
    public int Status { get; } = status;

    /// <summary>Keystone's title for the status.</summary>
    public string Title => Status switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        _ => "Internal Server Error",
    };

    /// <summary>Keystone's 401 message.</summary>
    public const string AuthRequired = "The request you have made requires authentication.";

    /// <summary>400 with Keystone's validation wording.</summary>
    public static IdentityError Invalid(string what) =>
        new(400, $"{what} The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.");

    /// <summary>401.</summary>
    public static IdentityError Unauthorized(string message = AuthRequired) => new(401, message);

    /// <summary>403 for a policy rule the caller does not meet.</summary>
    public static IdentityError Forbidden(string rule) => new(403, $"You are not authorized to perform the requested action: {rule}.");

    /// <summary>404 in Keystone's words ("Could not find project: x.").</summary>
    public static IdentityError NotFound(string kind, string id) => new(404, $"Could not find {kind}: {id}.");

    /// <summary>409 for a duplicate.</summary>
    public static IdentityError Conflict(string kind, string detail) => new(409, $"Conflict occurred attempting to store {kind} - {detail}.");
}
