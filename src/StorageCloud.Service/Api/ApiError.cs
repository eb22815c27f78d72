namespace StorageCloud.Service.Api;

/// <summary>
/// A refusal an API answers with: the HTTP status and a message for the caller. Domain code throws it; the API's
/// <see cref="ApiErrorFormat"/> writes it in the shape its reference service uses (Keystone's, Nova's and Cinder's
/// faults, Glance's, Neutron's).
/// </summary>
public class ApiError(int status, string message) : Exception(message)
{
    /// <summary>The HTTP status.</summary>
    public int Status { get; } = status;

    /// <summary>A machine-readable kind where the reference has one (Neutron's "NetworkNotFound"); null otherwise.</summary>
    public string? Kind { get; init; }

    /// <summary>True for a request body that failed validation (Keystone words these differently).</summary>
    public bool IsValidation { get; init; }

    /// <summary>The caller must authenticate.</summary>
    public const string AuthRequired = "The request you have made requires authentication.";

    /// <summary>400.</summary>
    public static ApiError BadRequest(string message) => new(400, message);

    /// <summary>400 for a body or parameter that is not as the schema says.</summary>
    public static ApiError Invalid(string message) => new(400, message) { IsValidation = true };

    /// <summary>401.</summary>
    public static ApiError Unauthorized(string message = AuthRequired) => new(401, message);

    /// <summary>403 for a policy rule the caller does not meet.</summary>
    public static ApiError Forbidden(string rule) => new(403, $"You are not authorized to perform the requested action: {rule}.");

    /// <summary>404.</summary>
    public static ApiError NotFound(string message) => new(404, message);

    /// <summary>409.</summary>
    public static ApiError Conflict(string message) => new(409, message);

    /// <summary>The reason phrase of a status.</summary>
    public static string Title(int status) => status switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        409 => "Conflict",
        410 => "Gone",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        429 => "Too Many Requests",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
}
