using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Service.Api;

/// <summary>
/// Reads request bodies and picks typed fields out of them, turning every shape mistake into a 400 with
/// the field named, instead of an exception from deep inside. The limit is Keystone's; other APIs pass their own.
/// </summary>
public static class JsonBody
{
    /// <summary>Largest request body read (Keystone's max_request_body_size is 114688).</summary>
    public const int MaxBytes = 114_688;

    /// <summary>The request's JSON object body.</summary>
    public static async Task<JsonObject> ReadAsync(HttpContext context, int maxBytes = MaxBytes) =>
        await ReadNodeAsync(context, maxBytes) as JsonObject ?? throw ApiError.Invalid("Expecting to find a JSON object in request body.");

    /// <summary>The request's JSON body, whatever its shape (a JSON patch is an array); 400 when it is not JSON.</summary>
    public static async Task<JsonNode?> ReadNodeAsync(HttpContext context, int maxBytes = MaxBytes)
    {
        if (context.Request.ContentLength > maxBytes) throw new ApiError(413, "Request is too large.");
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > maxBytes) throw new ApiError(413, "Request is too large.");
            buffer.Write(chunk, 0, read);
        }
        try
        {
            return JsonNode.Parse(buffer.ToArray());
        }
        catch (JsonException)
        {
            throw ApiError.Invalid("Expecting to find valid JSON in request body.");
        }
    }

    /// <summary>A required member object.</summary>
    public static JsonObject Object(JsonObject parent, string name, string where) =>
        OptionalObject(parent, name, where) ?? throw ApiError.Invalid($"Expecting to find {name} in {where}.");

    /// <summary>A member object, or null when absent.</summary>
    public static JsonObject? OptionalObject(JsonObject parent, string name, string where) => parent[name] switch
    {
        null => null,
        JsonObject o => o,
        _ => throw ApiError.Invalid($"Invalid input for field '{name}' in {where}: expected an object."),
    };

    /// <summary>A required string member.</summary>
    public static string String(JsonObject parent, string name, string where) =>
        OptionalString(parent, name, where) ?? throw ApiError.Invalid($"Expecting to find {name} in {where}.");

    /// <summary>A string member, or null when absent or JSON null.</summary>
    public static string? OptionalString(JsonObject parent, string name, string where)
    {
        var node = parent[name];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue<string>(out var s)) return s;
        throw ApiError.Invalid($"Invalid input for field '{name}' in {where}: expected a string.");
    }

    /// <summary>A boolean member, or null when absent.</summary>
    public static bool? OptionalBool(JsonObject parent, string name, string where)
    {
        var node = parent[name];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue<bool>(out var b)) return b;
        throw ApiError.Invalid($"Invalid input for field '{name}' in {where}: expected a boolean.");
    }

    /// <summary>A list of strings, or null when absent.</summary>
    public static List<string>? OptionalStrings(JsonObject parent, string name, string where)
    {
        var node = parent[name];
        if (node is null) return null;
        if (node is not JsonArray array) throw ApiError.Invalid($"Invalid input for field '{name}' in {where}: expected a list.");
        var list = new List<string>(array.Count);
        foreach (var item in array)
        {
            if (item is JsonValue v && v.TryGetValue<string>(out var s)) list.Add(s);
            else throw ApiError.Invalid($"Invalid input for field '{name}' in {where}: expected strings.");
        }
        return list;
    }

    /// <summary>A name or id: non-empty and at most 255 characters (Keystone's column sizes).</summary>
    public static string Name(string value, string field)
    {
        if (string.IsNullOrWhiteSpace(value)) throw ApiError.Invalid($"Invalid input for field '{field}': must not be empty.");
        if (value.Length > 255) throw ApiError.Invalid($"Invalid input for field '{field}': longer than 255 characters.");
        return value;
    }
}
