package io.jmpio.emu.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * PNG charts drawn with Java2D (headless): grouped bars for benchmark tables and lines over time for
 * timelines. A figure is panels stacked vertically, each with its own title and y axis.
 */
final class Charts {
    static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
        new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
    };
    private static final int WIDTH = 1000;
    private static final int PANEL_HEIGHT = 330;
    private static final int LEFT = 80;
    private static final int RIGHT = 190;
    private static final int TOP = 36;
    private static final int BOTTOM = 70;

    private Charts() {
    }

    /** Values of one named series; NaN draws nothing. */
    record Series(String name, double[] values) {
    }

    /** A vertical marker on a line panel (a fault, a phase change) at x, with a label. */
    record Marker(double x, String label) {
    }

    interface Panel {
        void draw(Graphics2D g, int x, int y, int w, int h);
    }

    /** Grouped bars: one group per category, one bar per series. */
    static Panel bars(String title, String yLabel, List<String> categories, List<Series> series) {
        return (g, x0, y0, w, h) -> {
            double max = 0;
            for (Series s : series) {
                for (double v : s.values()) {
                    if (!Double.isNaN(v)) {
                        max = Math.max(max, v);
                    }
                }
            }
            Frame f = frame(g, title, yLabel, x0, y0, w, h, 0, niceCeiling(max));
            int groups = categories.size();
            double groupW = (double) f.w / Math.max(1, groups);
            double barW = groupW * 0.8 / Math.max(1, series.size());
            for (int c = 0; c < groups; c++) {
                for (int s = 0; s < series.size(); s++) {
                    double v = series.get(s).values()[c];
                    if (Double.isNaN(v)) {
                        continue;
                    }
                    int bx = (int) (f.x + c * groupW + groupW * 0.1 + s * barW);
                    int by = f.yOf(v);
                    g.setColor(PALETTE[s % PALETTE.length]);
                    g.fillRect(bx, by, Math.max(1, (int) barW - 1), f.y + f.h - by);
                }
                g.setColor(Color.DARK_GRAY);
                drawRotated(g, categories.get(c), (int) (f.x + c * groupW + groupW / 2), f.y + f.h + 6);
            }
            legend(g, series, x0 + w - RIGHT + 12, f.y);
        };
    }

    /** Lines over x (e.g. seconds), with vertical markers. */
    static Panel lines(String title, String xLabel, String yLabel, double[] xs, List<Series> series, List<Marker> markers) {
        return (g, x0, y0, w, h) -> {
            double max = 0;
            for (Series s : series) {
                for (double v : s.values()) {
                    if (!Double.isNaN(v)) {
                        max = Math.max(max, v);
                    }
                }
            }
            double xMin = xs.length == 0 ? 0 : xs[0];
            double xMax = xs.length == 0 ? 1 : Math.max(xs[xs.length - 1], xMin + 1e-9);
            Frame f = frame(g, title, yLabel, x0, y0, w, h, 0, niceCeiling(max));
            g.setFont(g.getFont().deriveFont(11f));
            FontMetrics fm = g.getFontMetrics();
            for (int i = 0; i <= 5; i++) {
                double xv = xMin + (xMax - xMin) * i / 5;
                int px = f.x + (int) ((xv - xMin) / (xMax - xMin) * f.w);
                String label = format(xv);
                g.setColor(Color.DARK_GRAY);
                g.drawString(label, px - fm.stringWidth(label) / 2, f.y + f.h + 16);
            }
            g.drawString(xLabel, f.x + f.w / 2 - fm.stringWidth(xLabel) / 2, f.y + f.h + 32);
            for (Marker m : markers) {
                int px = f.x + (int) ((m.x() - xMin) / (xMax - xMin) * f.w);
                g.setColor(new Color(0xcc0000));
                g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
                g.drawLine(px, f.y, px, f.y + f.h);
                g.drawString(m.label(), px + 4, f.y + 12 + 14 * (markers.indexOf(m) % 3));
            }
            g.setStroke(new BasicStroke(1.8f));
            for (int s = 0; s < series.size(); s++) {
                g.setColor(PALETTE[s % PALETTE.length]);
                double[] v = series.get(s).values();
                int px = -1;
                int py = -1;
                for (int i = 0; i < Math.min(v.length, xs.length); i++) {
                    if (Double.isNaN(v[i])) {
                        px = -1;
                        continue;
                    }
                    int cx = f.x + (int) ((xs[i] - xMin) / (xMax - xMin) * f.w);
                    int cy = f.yOf(v[i]);
                    if (px >= 0) {
                        g.drawLine(px, py, cx, cy);
                    }
                    px = cx;
                    py = cy;
                }
            }
            g.setStroke(new BasicStroke(1f));
            legend(g, series, x0 + w - RIGHT + 12, f.y);
        };
    }

    /** Draws the panels one under another and writes the PNG. */
    static void write(Path file, String heading, List<Panel> panels) throws IOException {
        int height = 40 + PANEL_HEIGHT * panels.size();
        BufferedImage img = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, height);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
            g.drawString(heading, 16, 26);
            for (int i = 0; i < panels.size(); i++) {
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
                g.setStroke(new BasicStroke(1f));
                panels.get(i).draw(g, 0, 40 + i * PANEL_HEIGHT, WIDTH, PANEL_HEIGHT);
            }
        } finally {
            g.dispose();
        }
        if (!ImageIO.write(img, "png", file.toFile())) {
            throw new IOException("no PNG writer in this JRE");
        }
    }

    private record Frame(int x, int y, int w, int h, double yMin, double yMax) {
        int yOf(double v) {
            return y + h - (int) Math.round((v - yMin) / (yMax - yMin) * h);
        }
    }

    private static Frame frame(Graphics2D g, String title, String yLabel, int x0, int y0, int w, int h, double yMin, double yMax) {
        Frame f = new Frame(x0 + LEFT, y0 + TOP, w - LEFT - RIGHT, h - TOP - BOTTOM, yMin, yMax);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.drawString(title, f.x, y0 + 20);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        FontMetrics fm = g.getFontMetrics();
        for (int i = 0; i <= 4; i++) {
            double v = yMin + (yMax - yMin) * i / 4;
            int py = f.yOf(v);
            g.setColor(new Color(0xe6e6e6));
            g.drawLine(f.x, py, f.x + f.w, py);
            g.setColor(Color.DARK_GRAY);
            String s = format(v);
            g.drawString(s, f.x - 6 - fm.stringWidth(s), py + 4);
        }
        g.setColor(Color.BLACK);
        g.drawLine(f.x, f.y, f.x, f.y + f.h);
        g.drawLine(f.x, f.y + f.h, f.x + f.w, f.y + f.h);
        Graphics2D r = (Graphics2D) g.create();
        r.rotate(-Math.PI / 2);
        r.drawString(yLabel, -(f.y + f.h / 2 + fm.stringWidth(yLabel) / 2), x0 + 16);
        r.dispose();
        return f;
    }

    private static void legend(Graphics2D g, List<Series> series, int x, int y) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (int s = 0; s < series.size(); s++) {
            g.setColor(PALETTE[s % PALETTE.length]);
            g.fillRect(x, y + s * 18, 12, 12);
            g.setColor(Color.BLACK);
            g.drawString(series.get(s).name(), x + 18, y + s * 18 + 11);
        }
    }

    private static void drawRotated(Graphics2D g, String text, int x, int y) {
        Graphics2D r = (Graphics2D) g.create();
        r.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        r.translate(x, y);
        r.rotate(Math.PI / 10);
        r.drawString(text, -r.getFontMetrics().stringWidth(text) / 3, 8);
        r.dispose();
    }

    static double niceCeiling(double v) {
        if (v <= 0 || Double.isNaN(v)) {
            return 1;
        }
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    static String format(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Math.abs(v) >= 10 ? String.format("%.0f", v) : String.format("%.2f", v);
    }
}
