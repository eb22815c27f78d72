using System.Text;
using System.Text.Json;

namespace StorageCloud.Common.Http;

/// <summary>JSON spelled as Python's json.dumps spells it (", " and ": " separators), which Swift's answers use.</summary>
public static class PythonJson
{
    private static readonly JsonSerializerOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Serializes a value with Python's separators.</summary>
    public static string Serialize<T>(T value) => Space(JsonSerializer.Serialize(value, Options));

    /// <summary>Adds a space after every ',' and ':' outside strings of compact JSON.</summary>
    public static string Space(string compact)
    {
        var sb = new StringBuilder(compact.Length + compact.Length / 8);
        bool inString = false, escaped = false;
        foreach (var c in compact)
        {
            sb.Append(c);
            if (inString)
            {
                if (escaped) escaped = false;
                else if (c == '\\') escaped = true;
                else if (c == '"') inString = false;
            }
            else if (c == '"') inString = true;
            else if (c is ',' or ':') sb.Append(' ');
        }
        return sb.ToString();
    }
}
