using System.Globalization;
using System.Text;

namespace AuthenticatedHttp.LoadTest;

/// <summary>Renders latency over time as a hand-written SVG: one panel per round, floor and library (taking turns) overlaid.</summary>
internal static class SvgChart
{
    private const double Bucket = 0.1;
    private const int Width = 1000;
    private const int Left = 60;
    private const int Right = 20;
    private const int Top = 56;
    private const int PanelHeight = 200;
    private const int PanelGap = 48;
    private const string FloorColour = "#6b6b6b";
    private const string LibraryColour = "#1f6fd1";
    private const string RefreshColour = "#d62728";
    private static readonly double[] NiceFactors = [1.0, 2.0, 2.5, 5.0, 10.0];

    public static string Render(IReadOnlyList<ClientSamples> samples, LoadTestOptions options)
    {
        var rounds = samples.Max(p => p.Round);
        var series = samples.ToDictionary(p => (p.Kind, p.Round), p => Series.Of(p, Bucket));
        // The axis shows every library p99 bucket and all but the worst 0.5% of the other buckets: one burst of outside
        // load on the shared machine must not flatten the lines the chart is about. Clipped values sit on the top edge.
        var libraryHighest = series.Where(e => e.Key.Kind == "library").SelectMany(e => e.Value.P99).Where(v => !double.IsNaN(v)).DefaultIfEmpty(1).Max();
        var allSorted = series.Values.SelectMany(s => s.P99).Where(v => !double.IsNaN(v)).Order().ToArray();
        var typicalHighest = allSorted.Length == 0 ? 1 : LatencySummary.Percentile(allSorted, 0.995);
        var (yMax, yStep) = NiceScale(Math.Max(libraryHighest * 1.15, typicalHighest * 1.3));
        var height = Top + (rounds * (PanelHeight + PanelGap)) + 4;
        var plotWidth = Width - Left - Right;

        var sb = new StringBuilder();
        sb.AppendLine(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" font-family=\"sans-serif\" font-size=\"12\">"));
        sb.AppendLine(Inv($"<rect width=\"{Width}\" height=\"{height}\" fill=\"white\"/>"));
        sb.AppendLine(Inv($"<text x=\"{Left}\" y=\"20\" font-size=\"15\" font-weight=\"bold\">Latency over time: {options.Workers} workers, GET api/echo on loopback, token lifetime {options.LifetimeSeconds} s (p99 and max per {Bucket * 1000:0} ms bucket)</text>"));
        var lx = Left;
        sb.AppendLine(Legend(ref lx, FloorColour, 1, "floor p99 (fixed header)"));
        sb.AppendLine(Legend(ref lx, LibraryColour, 1, "library p99"));
        sb.AppendLine(Legend(ref lx, LibraryColour, 0.3, "max (faint, same colours)"));
        sb.AppendLine(Inv($"<line x1=\"{lx}\" y1=\"38\" x2=\"{lx + 24}\" y2=\"38\" stroke=\"{RefreshColour}\" stroke-dasharray=\"4 3\"/><text x=\"{lx + 30}\" y=\"42\">token request (refresh)</text>"));

        for (var round = 1; round <= rounds; round++)
        {
            var y0 = Top + ((round - 1) * (PanelHeight + PanelGap)) + 12;
            var duration = samples.Where(p => p.Round == round).Max(p => p.Duration);
            double X(double seconds) => Left + (seconds / duration * plotWidth);
            double Y(double ms) => y0 + PanelHeight - (Math.Min(ms, yMax) / yMax * PanelHeight);

            sb.AppendLine(Inv($"<text x=\"{Left}\" y=\"{y0 - 4}\" font-weight=\"bold\">Round {round}: floor and library taking turns (values above {yMax:0.##} ms drawn on the top edge)</text>"));
            sb.AppendLine(Inv($"<rect x=\"{Left}\" y=\"{y0}\" width=\"{plotWidth}\" height=\"{PanelHeight}\" fill=\"none\" stroke=\"#999\"/>"));
            for (var v = 0.0; v <= yMax + 1e-9; v += yStep)
            {
                sb.AppendLine(Inv($"<line x1=\"{Left - 4}\" y1=\"{Y(v):F1}\" x2=\"{Left + plotWidth}\" y2=\"{Y(v):F1}\" stroke=\"#e6e6e6\"/><text x=\"{Left - 7}\" y=\"{Y(v) + 4:F1}\" text-anchor=\"end\">{v:0.##}</text>"));
            }

            var xStep = duration <= 20 ? 2 : duration <= 60 ? 5 : 10;
            for (var s = 0.0; s <= duration + 1e-9; s += xStep)
            {
                sb.AppendLine(Inv($"<line x1=\"{X(s):F1}\" y1=\"{y0 + PanelHeight}\" x2=\"{X(s):F1}\" y2=\"{y0 + PanelHeight + 4}\" stroke=\"#333\"/><text x=\"{X(s):F1}\" y=\"{y0 + PanelHeight + 16}\" text-anchor=\"middle\">{s:0}</text>"));
            }

            sb.AppendLine(Inv($"<text x=\"{Left + (plotWidth / 2)}\" y=\"{y0 + PanelHeight + 31}\" text-anchor=\"middle\">time since the start of the measured round (s)</text>"));
            sb.AppendLine(Inv($"<text transform=\"translate({Left - 44},{y0 + (PanelHeight / 2)}) rotate(-90)\" text-anchor=\"middle\">latency (ms)</text>"));

            if (samples.FirstOrDefault(p => p.Round == round && p.Kind == "library") is { } library)
            {
                var n = 0;
                foreach (var m in library.RefreshMoments.Where(m => m >= 0 && m <= duration))
                {
                    n++;
                    sb.AppendLine(Inv($"<line x1=\"{X(m):F1}\" y1=\"{y0}\" x2=\"{X(m):F1}\" y2=\"{y0 + PanelHeight}\" stroke=\"{RefreshColour}\" stroke-dasharray=\"4 3\"/><text x=\"{(X(m) > Width - Right - 60 ? X(m) - 3 : X(m) + 3):F1}\" y=\"{y0 + 11 + (n % 2 == 0 ? 12 : 0)}\" text-anchor=\"{(X(m) > Width - Right - 60 ? "end" : "start")}\" fill=\"{RefreshColour}\" font-size=\"10\">R{n} {m:0.0}s</text>"));
                }
            }

            foreach (var (kind, colour) in new[] { ("floor", FloorColour), ("library", LibraryColour) })
            {
                if (series.TryGetValue((kind, round), out var s))
                {
                    sb.AppendLine(Polyline(s.Max, colour, 0.2, X, Y));
                    sb.AppendLine(Polyline(s.P99, colour, 1, X, Y));
                }
            }
        }

        sb.AppendLine("</svg>");
        return sb.ToString();
    }

    private static string Legend(ref int x, string colour, double opacity, string text)
    {
        var s = Inv($"<line x1=\"{x}\" y1=\"38\" x2=\"{x + 24}\" y2=\"38\" stroke=\"{colour}\" stroke-opacity=\"{opacity}\" stroke-width=\"2\"/><text x=\"{x + 30}\" y=\"42\">{text}</text>");
        x += 40 + (text.Length * 7);
        return s;
    }

    /// <summary>A path through the non-empty buckets; a bucket with no requests (another client's turn) breaks the line.</summary>
    private static string Polyline(double[] values, string colour, double opacity, Func<double, double> x, Func<double, double> y)
    {
        var path = new StringBuilder();
        var move = true;
        for (var i = 0; i < values.Length; i++)
        {
            if (double.IsNaN(values[i]))
            {
                move = true;
                continue;
            }

            path.Append(Inv($"{(move ? 'M' : 'L')}{x((i + 0.5) * Bucket):F1},{y(values[i]):F1} "));
            move = false;
        }

        return Inv($"<path fill=\"none\" stroke=\"{colour}\" stroke-opacity=\"{opacity}\" stroke-width=\"1.5\" d=\"{path.ToString().TrimEnd()}\"/>");
    }

    private static (double Max, double Step) NiceScale(double value)
    {
        var rough = Math.Max(value, 1e-3) / 5;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var step = NiceFactors.Select(f => f * magnitude).First(s => s >= rough);
        return (Math.Ceiling(value / step) * step, step);
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
