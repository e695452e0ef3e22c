using System.Globalization;
using System.Text;

namespace AuthenticatedHttp.FleetLoadTest;

/// <summary>
/// One hand-written SVG, four panels: token requests per refresh cycle against N (with Redis, alone); every token
/// request at the server on each phase's time axis; p99 near a refresh and elsewhere, per phase; p99 over time per N.
/// </summary>
internal static class FleetChart
{
    public const string FileName = "fleet.svg";

    private const int Width = 1000;
    private const int Left = 70;
    private const int Right = 20;
    private const string RedisColour = "#1f6fd1";
    private const string AloneColour = "#8a8a8a";
    private const string ReferenceColour = "#d62728";
    private static readonly double[] NiceFactors = [1.0, 2.0, 2.5, 5.0, 10.0];

    public static string Render(IReadOnlyList<Phase> phases, FleetOptions options)
    {
        var plotWidth = Width - Left - Right;
        var sizes = phases.Select(p => p.Processes).Distinct().Order().ToArray();
        var ordered = phases.OrderBy(p => p.Processes).ThenBy(p => p.WithRedis ? 0 : 1).ToArray();

        const int BarsTop = 70;
        const int BarsHeight = 220;
        var timelineTop = BarsTop + BarsHeight + 80;
        const int RowHeight = 26;
        var timelineHeight = ordered.Length * RowHeight;
        var p99Top = timelineTop + timelineHeight + 80;
        const int P99Height = 220;
        var profileTop = p99Top + P99Height + 90;
        const int ProfileHeight = 150;
        const int ProfileGap = 60;
        var height = profileTop + (sizes.Length * (ProfileHeight + ProfileGap)) + 10;

        var sb = new StringBuilder();
        sb.AppendLine(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" font-family=\"sans-serif\" font-size=\"12\">"));
        sb.AppendLine(Inv($"<rect width=\"{Width}\" height=\"{height}\" fill=\"white\"/>"));
        sb.AppendLine(Inv($"<text x=\"{Left}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">Fleet of N processes, one loopback token server, token lifetime {options.LifetimeSeconds} s, {options.Seconds} s per phase, {options.Callers} callers per process</text>"));
        var lx = Left;
        sb.AppendLine(Legend(ref lx, 40, RedisColour, "with Redis (AddAuthenticatedHttpRedis)"));
        sb.AppendLine(Legend(ref lx, 40, AloneColour, "each process alone"));

        // Panel 1: token requests per refresh cycle.
        {
            var yMax = Math.Max(sizes.Max(), phases.Max(p => p.TokenRequestsPerCycle)) + 1;
            var (top, step) = NiceScale(yMax);
            double Y(double v) => BarsTop + BarsHeight - (v / top * BarsHeight);
            sb.AppendLine(Inv($"<text x=\"{Left}\" y=\"{BarsTop - 10}\" font-weight=\"bold\">Token requests at the server per refresh cycle of the fleet (1 = one request for the whole fleet; N = one per process)</text>"));
            Axes(sb, BarsTop, BarsHeight, plotWidth, top, step, Y, "requests / cycle");
            var group = plotWidth / (double)sizes.Length;
            for (var g = 0; g < sizes.Length; g++)
            {
                var x0 = Left + (g * group);
                sb.AppendLine(Inv($"<text x=\"{x0 + (group / 2):F1}\" y=\"{BarsTop + BarsHeight + 18}\" text-anchor=\"middle\">N = {sizes[g]} processes</text>"));
                var bar = group / 5;
                foreach (var (withRedis, slot) in new[] { (true, 1.5), (false, 2.5) })
                {
                    if (phases.FirstOrDefault(p => p.Processes == sizes[g] && p.WithRedis == withRedis) is not { } p)
                    {
                        continue;
                    }

                    var v = p.TokenRequestsPerCycle;
                    var x = x0 + (slot * bar);
                    sb.AppendLine(Inv($"<rect x=\"{x:F1}\" y=\"{Y(v):F1}\" width=\"{bar:F1}\" height=\"{(BarsTop + BarsHeight - Y(v)):F1}\" fill=\"{(withRedis ? RedisColour : AloneColour)}\"/>"));
                    sb.AppendLine(Inv($"<text x=\"{x + (bar / 2):F1}\" y=\"{Y(v) - 4:F1}\" text-anchor=\"middle\">{v:0.00}</text>"));
                }
            }

            sb.AppendLine(Inv($"<line x1=\"{Left}\" y1=\"{Y(1):F1}\" x2=\"{Left + plotWidth}\" y2=\"{Y(1):F1}\" stroke=\"{ReferenceColour}\" stroke-dasharray=\"4 3\"/><text x=\"{Left + plotWidth - 4}\" y=\"{Y(1) - 4:F1}\" text-anchor=\"end\" fill=\"{ReferenceColour}\">1 per cycle</text>"));
        }

        // Panel 2: every token request on each phase's time axis.
        {
            double X(double s) => Left + 90 + (s / options.Seconds * (plotWidth - 90));
            sb.AppendLine(Inv($"<text x=\"{Left}\" y=\"{timelineTop - 10}\" font-weight=\"bold\">Every token request at the server (one tick each), time since the common start of the phase's processes</text>"));
            for (var r = 0; r < ordered.Length; r++)
            {
                var p = ordered[r];
                var y0 = timelineTop + (r * RowHeight);
                var colour = p.WithRedis ? RedisColour : AloneColour;
                sb.AppendLine(Inv($"<text x=\"{Left}\" y=\"{y0 + 16}\">N={p.Processes} {p.Label}</text>"));
                sb.AppendLine(Inv($"<line x1=\"{X(0):F1}\" y1=\"{y0 + RowHeight - 4}\" x2=\"{X(options.Seconds):F1}\" y2=\"{y0 + RowHeight - 4}\" stroke=\"#ccc\"/>"));
                foreach (var t in p.TokenRequests.Where(t => t >= 0 && t <= options.Seconds))
                {
                    sb.AppendLine(Inv($"<line x1=\"{X(t):F1}\" y1=\"{y0 + 4}\" x2=\"{X(t):F1}\" y2=\"{y0 + RowHeight - 4}\" stroke=\"{colour}\" stroke-width=\"1.5\"/>"));
                }

                sb.AppendLine(Inv($"<text x=\"{Width - Right}\" y=\"{y0 + 16}\" text-anchor=\"end\" font-size=\"10\">{p.TokenRequests.Length}</text>"));
            }

            var axisY = timelineTop + timelineHeight;
            var xStep = options.Seconds <= 20 ? 2 : options.Seconds <= 60 ? 5 : 10;
            for (var s = 0; s <= options.Seconds; s += xStep)
            {
                sb.AppendLine(Inv($"<line x1=\"{X(s):F1}\" y1=\"{axisY}\" x2=\"{X(s):F1}\" y2=\"{axisY + 4}\" stroke=\"#333\"/><text x=\"{X(s):F1}\" y=\"{axisY + 16}\" text-anchor=\"middle\">{s}</text>"));
            }

            sb.AppendLine(Inv($"<text x=\"{X(options.Seconds / 2.0):F1}\" y=\"{axisY + 32}\" text-anchor=\"middle\">seconds (right: token requests in the phase)</text>"));
        }

        // Panel 3: p99 near a refresh of the request's own process, and elsewhere.
        {
            var values = ordered.Select(p => p.AroundRefresh).ToArray();
            var yMax = values.SelectMany(v => new[] { v.Near.P99, v.Elsewhere.P99 }).Where(v => !double.IsNaN(v)).DefaultIfEmpty(1).Max() * 1.15;
            var (top, step) = NiceScale(yMax);
            double Y(double v) => p99Top + P99Height - (Math.Min(v, top) / top * P99Height);
            sb.AppendLine(Inv($"<text x=\"{Left}\" y=\"{p99Top - 10}\" font-weight=\"bold\">p99 latency (ms) of requests within ±{options.WindowSeconds:0.##} s of their own process's refresh (dark) and elsewhere (light), after {options.WarmupSeconds:0.#} s warm-up</text>"));
            Axes(sb, p99Top, P99Height, plotWidth, top, step, Y, "p99 (ms)");
            var group = plotWidth / (double)ordered.Length;
            for (var g = 0; g < ordered.Length; g++)
            {
                var p = ordered[g];
                var x0 = Left + (g * group);
                var colour = p.WithRedis ? RedisColour : AloneColour;
                sb.AppendLine(Inv($"<text x=\"{x0 + (group / 2):F1}\" y=\"{p99Top + P99Height + 18}\" text-anchor=\"middle\">N={p.Processes} {p.Label}</text>"));
                var bar = group / 4;
                foreach (var (v, slot, opacity) in new[] { (values[g].Near.P99, 1.0, 1.0), (values[g].Elsewhere.P99, 2.0, 0.45) })
                {
                    if (double.IsNaN(v))
                    {
                        continue;
                    }

                    var x = x0 + (slot * bar);
                    sb.AppendLine(Inv($"<rect x=\"{x:F1}\" y=\"{Y(v):F1}\" width=\"{bar:F1}\" height=\"{(p99Top + P99Height - Y(v)):F1}\" fill=\"{colour}\" fill-opacity=\"{opacity}\"/>"));
                    sb.AppendLine(Inv($"<text x=\"{x + (bar / 2):F1}\" y=\"{Y(v) - 4:F1}\" text-anchor=\"middle\" font-size=\"10\">{v:0.0}</text>"));
                }
            }
        }

        // Panel 4: p99 over time per N, both modes overlaid, the token requests of both marked.
        {
            const double Bucket = 0.5;
            var profiles = phases.ToDictionary(p => (p.Processes, p.WithRedis), p => p.P99Profile(Bucket));
            // The axis fits the usual buckets after the warm-up (1.5 × their 95th percentile): the cold start's first
            // buckets (hundreds of ms) and a rare burst of outside load are drawn on the top edge instead of flattening the rest.
            var firstMeasured = (int)Math.Ceiling(options.WarmupSeconds / Bucket);
            var measured = profiles.Values.SelectMany(v => v.Skip(firstMeasured)).Where(v => !double.IsNaN(v)).Order().ToArray();
            var typical = measured.Length == 0 ? 1 : measured[Math.Clamp((int)Math.Ceiling(measured.Length * 0.95) - 1, 0, measured.Length - 1)];
            var (top, step) = NiceScale(typical * 1.5);
            double X(double sec) => Left + (sec / options.Seconds * plotWidth);
            sb.AppendLine(Inv($"<text x=\"{Left}\" y=\"{profileTop - 30}\" font-weight=\"bold\">p99 latency over time, per {Bucket * 1000:0} ms (ticks: token requests; shaded: warm-up; above {top:0.##} ms: on the top edge)</text>"));
            for (var g = 0; g < sizes.Length; g++)
            {
                var y0 = profileTop + (g * (ProfileHeight + ProfileGap));
                double Y(double v) => y0 + ProfileHeight - (Math.Min(v, top) / top * ProfileHeight);
                sb.AppendLine(Inv($"<text x=\"{Left}\" y=\"{y0 - 6}\">N = {sizes[g]} processes (the two phases ran one after the other)</text>"));
                Axes(sb, y0, ProfileHeight, plotWidth, top, step, Y, "p99 (ms)");
                var xStep = options.Seconds <= 20 ? 2 : options.Seconds <= 60 ? 5 : 10;
                for (var sec = 0; sec <= options.Seconds; sec += xStep)
                {
                    sb.AppendLine(Inv($"<text x=\"{X(sec):F1}\" y=\"{y0 + ProfileHeight + 14}\" text-anchor=\"middle\">{sec} s</text>"));
                }

                sb.AppendLine(Inv($"<rect x=\"{Left}\" y=\"{y0}\" width=\"{X(options.WarmupSeconds) - Left:F1}\" height=\"{ProfileHeight}\" fill=\"#000\" fill-opacity=\"0.05\"/>"));
                foreach (var withRedis in new[] { false, true })
                {
                    if (!profiles.TryGetValue((sizes[g], withRedis), out var profile))
                    {
                        continue;
                    }

                    var colour = withRedis ? RedisColour : AloneColour;
                    var phase = phases.First(p => p.Processes == sizes[g] && p.WithRedis == withRedis);
                    foreach (var t in phase.TokenRequests.Where(t => t >= 0 && t <= options.Seconds))
                    {
                        var (ya, yb) = withRedis ? (y0 - 2, y0 + 8) : (y0 + 8, y0 + 18);
                        sb.AppendLine(Inv($"<line x1=\"{X(t):F1}\" y1=\"{ya}\" x2=\"{X(t):F1}\" y2=\"{yb}\" stroke=\"{colour}\" stroke-width=\"1.5\"/>"));
                    }

                    var path = new StringBuilder();
                    var move = true;
                    for (var i = 0; i < profile.Length; i++)
                    {
                        if (double.IsNaN(profile[i]))
                        {
                            move = true;
                            continue;
                        }

                        path.Append(Inv($"{(move ? 'M' : 'L')}{X((i + 0.5) * Bucket):F1},{Y(profile[i]):F1} "));
                        move = false;
                    }

                    sb.AppendLine(Inv($"<path fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" d=\"{path.ToString().TrimEnd()}\"/>"));
                }
            }
        }

        sb.AppendLine("</svg>");
        return sb.ToString();
    }

    private static void Axes(StringBuilder sb, int top, int height, int plotWidth, double yMax, double yStep, Func<double, double> y, string label)
    {
        sb.AppendLine(Inv($"<rect x=\"{Left}\" y=\"{top}\" width=\"{plotWidth}\" height=\"{height}\" fill=\"none\" stroke=\"#999\"/>"));
        for (var v = 0.0; v <= yMax + 1e-9; v += yStep)
        {
            sb.AppendLine(Inv($"<line x1=\"{Left - 4}\" y1=\"{y(v):F1}\" x2=\"{Left + plotWidth}\" y2=\"{y(v):F1}\" stroke=\"#e6e6e6\"/><text x=\"{Left - 7}\" y=\"{y(v) + 4:F1}\" text-anchor=\"end\">{v:0.##}</text>"));
        }

        sb.AppendLine(Inv($"<text transform=\"translate({Left - 48},{top + (height / 2)}) rotate(-90)\" text-anchor=\"middle\">{label}</text>"));
    }

    private static string Legend(ref int x, int y, string colour, string text)
    {
        var s = Inv($"<rect x=\"{x}\" y=\"{y - 9}\" width=\"14\" height=\"10\" fill=\"{colour}\"/><text x=\"{x + 20}\" y=\"{y}\">{text}</text>");
        x += 40 + (text.Length * 7);
        return s;
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
