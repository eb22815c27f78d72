using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace StorageCloud.Dashboard.Web;

/// <summary>File uploads: multipart forms read as a stream, the file passed on without being buffered.</summary>
public sealed partial class DashboardApp
{
    /// <summary>The most text a form field of an upload may hold.</summary>
    private const int MaxUploadFieldBytes = 64 << 10;

    /// <summary>The most text fields an upload form may send before its file.</summary>
    private const int MaxUploadFields = 16;

    /// <summary>
    /// Reads a multipart form whose text fields (the csrf token first) come before its one file field, then hands the
    /// fields and the file's stream to <paramref name="store"/>. Nothing is stored unless the form carried this
    /// session's token before the file.
    /// </summary>
    private async Task ReceiveUploadAsync(HttpContext context, Session session, Func<Dictionary<string, string>, MultipartSection, string, Task> store)
    {
        var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(context.Request.ContentType).Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            await WritePageAsync(context, "Upload", "<p class=\"error\">The upload was not a multipart form.</p>", session, 400);
            return;
        }
        var reader = new MultipartReader(boundary, context.Request.Body) { HeadersLengthLimit = MaxUploadFieldBytes };
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var section = await reader.ReadNextSectionAsync(); section is not null; section = await reader.ReadNextSectionAsync())
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)) continue;
            var field = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
            if (!disposition.IsFileDisposition())
            {
                var text = fields.Count < MaxUploadFields ? await ReadFieldAsync(section.Body) : null;
                if (text is null)
                {
                    await WritePageAsync(context, "Upload", "<p class=\"error\">A form field was too long, or there were too many.</p>", session, 400);
                    return;
                }
                fields[field] = text;
                continue;
            }
            if (!SessionStore.SameToken(fields.GetValueOrDefault("csrf"), session.Csrf)) break;
            var fileName = Path.GetFileName(HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "");
            if (fileName.Length == 0)
            {
                await WritePageAsync(context, "Upload", "<p class=\"error\">Choose a file to upload.</p>", session, 400);
                return;
            }
            await store(fields, section, fileName);
            return;
        }
        await WritePageAsync(context, "Refused", "<p class=\"error\">The form is stale or did not come from this dashboard (no CSRF token).</p>", session, 403);
    }

    /// <summary>A text field's value, or null when it is longer than a field may be.</summary>
    private static async Task<string?> ReadFieldAsync(Stream body)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        for (int read; (read = await body.ReadAsync(chunk)) > 0;)
        {
            if (buffer.Length + read > MaxUploadFieldBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
