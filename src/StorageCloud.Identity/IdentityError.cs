using StorageCloud.Service.Api;

namespace StorageCloud.Identity;

/// <summary>Refusals in Keystone's words, answered in Keystone's error body by the API kit.</summary>
public sealed class IdentityError(int status, string message) : ApiError(status, message)
{
    /// <summary>400 with Keystone's validation wording.</summary>
    public static new ApiError Invalid(string what) => ApiError.Invalid(what);

    /// <summary>401.</summary>
    public static new ApiError Unauthorized(string message = AuthRequired) => ApiError.Unauthorized(message);

    /// <summary>403 for a policy rule the caller does not meet.</summary>
    public static new ApiError Forbidden(string rule) => ApiError.Forbidden(rule);

    /// <summary>404 in Keystone's words ("Could not find project: x.").</summary>
    public static IdentityError NotFound(string kind, string id) => new(404, $"Could not find {kind}: {id}.");

    /// <summary>409 for a duplicate.</summary>
    public static IdentityError Conflict(string kind, string detail) => new(409, $"Conflict occurred attempting to store {kind} - {detail}.");
}
