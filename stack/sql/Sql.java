import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.Properties;

/**
 * {@code bin/lockstep-stack sql} on machines without psql (the embedded PostgreSQL ships no client).
 *
 * <pre>java -cp postgresql.jar Sql.java &lt;jdbc url&gt; &lt;user&gt; [-c SQL]     (without -c: the script on stdin)</pre>
 *
 * Runs the whole text as one simple-protocol query, so a script of several statements works, stopping at the first
 * error. Unlike psql, the statements of one script then form one implicit transaction (an error rolls back all of
 * them, and CREATE DATABASE or VACUUM must be sent alone with -c). Prints each result set as tab-separated rows
 * under a header line, and the update count of other statements; exits 1 on an SQL error.
 */
public class Sql {

    public static void main(String[] args) throws IOException {
        if (args.length != 2 && !(args.length == 4 && args[2].equals("-c"))) {
            System.err.println("usage: java -cp <postgresql jar> Sql.java <jdbc url> <user> [-c SQL]");
            System.exit(2);
        }
        String sql = args.length == 4 ? args[3] : read(System.in);
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("preferQueryMode", "simple");
        try (Connection c = DriverManager.getConnection(args[0], props); Statement s = c.createStatement()) {
            boolean isResultSet = s.execute(sql);
            while (true) {
                if (isResultSet) {
                    try (ResultSet rs = s.getResultSet()) {
                        print(rs);
                    }
                } else {
                    int count = s.getUpdateCount();
                    if (count == -1) {
                        break;
                    }
                    System.out.println("(" + count + " rows affected)");
                }
                isResultSet = s.getMoreResults();
            }
            for (SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
                System.err.println("NOTICE: " + w.getMessage());
            }
        } catch (SQLException e) {
            System.err.println(e.getMessage()); // the server's text, already "ERROR: ..."
            System.exit(1);
        }
    }

    private static void print(ResultSet rs) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        int n = md.getColumnCount();
        StringBuilder line = new StringBuilder();
        for (int i = 1; i <= n; i++) {
            line.append(i > 1 ? "\t" : "").append(md.getColumnLabel(i));
        }
        System.out.println(line);
        int rows = 0;
        while (rs.next()) {
            line.setLength(0);
            for (int i = 1; i <= n; i++) {
                String v = rs.getString(i);
                line.append(i > 1 ? "\t" : "").append(v == null ? "" : v);
            }
            System.out.println(line);
            rows++;
        }
        System.out.println("(" + rows + (rows == 1 ? " row)" : " rows)"));
    }

    private static String read(InputStream in) throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
}
