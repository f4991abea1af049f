use unik_lang::{SourceMap, render};
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let src = std::fs::read_to_string(&path).unwrap();
    let mut sm = SourceMap::new();
    let id = sm.add(&path, src.clone());
    let p = unik_lang::syntax::parse(id, &src);
    if std::env::var("AST").is_ok() {
        println!("{:#?}", p.module.expr);
    }
    for d in &p.diagnostics {
        print!("{}", render::human(d, &sm, render::HumanStyle::plain()));
    }
}
