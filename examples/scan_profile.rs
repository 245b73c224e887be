//! Where does a full scan of ~2,000 rows spend its time? natively.
use crmsync::capture::{self, html, Counters, ScanContext};
use std::time::Instant;

fn main() {
    let rows = include_str!("../www/fixtures/ana.html");
    let mut big = String::new();
    for i in 0..143 {
        big.push_str(&rows.replace("3EB0A1B2C3D4E5F607", &format!("X{i:04}")));
    }
    println!("{} bytes", big.len());
    for _ in 0..3 {
        let t = Instant::now();
        let nodes = html::parse(&big);
        let parse = t.elapsed();
        let t = Instant::now();
        let mut ctx = ScanContext { chat: "c".into(), locale: "pt-BR".into(), ..Default::default() };
        let mut c = Counters::default();
        let mut n = 0;
        for node in &nodes {
            if let html::Node::El(e) = node {
                if capture::parse_row(e, &mut ctx, &mut c).is_some() {
                    n += 1;
                }
            }
        }
        let rows_t = t.elapsed();
        println!("tree {:?}  rows {:?}  messages {n}", parse, rows_t);
    }
}
