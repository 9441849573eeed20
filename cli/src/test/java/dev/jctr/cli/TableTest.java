package dev.jctr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class TableTest {

  @Test
  void columnsAlignToTheWidestCellWithThreeSpaces() {
    StringWriter out = new StringWriter();
    new Table("TYPE", "ID", "STATUS")
        .row("io.containerd.grpc.v1", "version", "ok")
        .row("t", "introspection", "error")
        .print(new PrintWriter(out));
    assertEquals("""
        TYPE                    ID              STATUS
        io.containerd.grpc.v1   version         ok
        t                       introspection   error
        """, out.toString());
  }

  @Test
  void rowWithTheWrongNumberOfCellsIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new Table("A", "B").row("only"));
  }
}
