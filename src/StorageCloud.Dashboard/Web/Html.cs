using System.Text;
using System.Text.Encodings.Web;

namespace StorageCloud.Dashboard.Web;

/// <summary>Page building: every text that reaches HTML goes through <see cref="E"/>, every path segment through <see cref="U"/>.</summary>
public static class Html
{
    /// <summary>Text escaped for HTML content and attribute values.</summary>
    public static string E(string? text) => HtmlEncoder.Default.Encode(text ?? "");

    /// <summary>A value escaped for a URL path segment or query value.</summary>
    public static string U(string? text) => Uri.EscapeDataString(text ?? "");

    /// <summary>The hidden field every form carries.</summary>
    public static string CsrfField(string csrf) => $"<input type=\"hidden\" name=\"csrf\" value=\"{E(csrf)}\">";

    /// <summary>A whole page: the navigation (when logged in), the title, the body.</summary>
    public static string Page(string title, string body, Session? session)
    {
        var page = new StringBuilder();
        page.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>").Append(E(title)).Append(" - StorageCloud</title><link rel=\"stylesheet\" href=\"/static/site.css\"></head><body>");
        if (session is not null)
        {
            page.Append("<header><nav aria-label=\"main\"><a href=\"/\">Overview</a> <a href=\"/containers\">Containers</a> <a href=\"/volumes\">Volumes</a> <a href=\"/instances\">Instances</a> <a href=\"/images\">Images</a> ")
                .Append("<a href=\"/networks\">Networks</a> <a href=\"/floating-ips\">Floating IPs</a> <a href=\"/security-groups\">Security groups</a> <a href=\"/key-pairs\">Key pairs</a> ")
                .Append(session.IsAdmin ? "<a href=\"/admin\">Cluster</a> " : "")
                .Append("<a href=\"/projects\">Project: ").Append(E(session.ProjectName)).Append("</a> ")
                .Append("<form method=\"post\" action=\"/logout\" class=\"inline\">").Append(CsrfField(session.Csrf))
                .Append("<button type=\"submit\">Log out ").Append(E(session.UserName)).Append("</button></form></nav></header>");
        }
        page.Append("<main><h1>").Append(E(title)).Append("</h1>").Append(body).Append("</main><script src=\"/static/app.js\"></script></body></html>");
        return page.ToString();
    }

    /// <summary>A usage bar: used of limit (-1 is unlimited), with its numbers for screen readers and eyes alike.</summary>
    public static string Meter(string label, double used, double limit, string unit)
    {
        var shown = limit < 0 ? $"{used:0.##} {unit} used (no limit)" : $"{used:0.##} of {limit:0.##} {unit}";
        var max = limit > 0 ? limit : Math.Max(used, 1);
        return $"<div class=\"meter\"><span>{E(label)}</span> <meter min=\"0\" max=\"{max:0.##}\" value=\"{used:0.##}\" aria-label=\"{E(label)}\">{E(shown)}</meter> <span>{E(shown)}</span></div>";
    }

    /// <summary>The style sheet: readable on a phone, no framework.</summary>
    public const string Css = """
        body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b}
        header{background:#243447;padding:.5rem 1rem}
        header a,header button{color:#fff;margin-right:1rem;background:none;border:0;font:inherit;cursor:pointer;text-decoration:underline}
        main{padding:1rem;max-width:60rem}
        table{border-collapse:collapse;width:100%}
        th,td{text-align:left;padding:.3rem;border-bottom:1px solid #ddd;overflow-wrap:break-word}
        nav a,button{white-space:nowrap}
        figure.chart{margin:1rem 0;max-width:40rem} figcaption{font-weight:bold}
        form.inline{display:inline}
        label{display:block;margin:.4rem 0}
        input,select,button{font:inherit;padding:.3rem}
        .meter{margin:.5rem 0} meter{width:12rem;height:1.2rem}
        .error{color:#a00;font-weight:bold}
        progress{width:100%}
        @media (max-width:40rem){main{padding:.5rem} table{display:block;overflow-x:auto}}
        """;

    /// <summary>The script: uploads with a progress bar (the form works without it).</summary>
    public const string Script = """
        var refresh = document.querySelector('[data-refresh]');
        if (refresh) setTimeout(function () { window.location.reload(); }, 1000 * Number(refresh.getAttribute('data-refresh')));
        document.querySelectorAll('form[data-upload]').forEach(function (form) {
          form.addEventListener('submit', function (event) {
            event.preventDefault();
            var bar = form.querySelector('progress');
            var request = new XMLHttpRequest();
            request.open('POST', form.action);
            request.upload.onprogress = function (e) { if (e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; } };
            request.onload = function () { window.location = request.responseURL || window.location.href; };
            request.send(new FormData(form));
          });
        });
        """;
}
