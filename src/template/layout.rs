//! Where everything sits in the template: sheet names, columns, row labels (seed 003's wording and
//! spelling kept), markers of the hidden identity column. Shared by the exporter and the importer.

pub const SYNTHESE: &str = "Synthèse";
pub const INTERNES: &str = "Coûts internes";
pub const EXTERNES: &str = "Coûts externes";
pub const AUTRES: &str = "Autres coûts";
pub const RECETTES: &str = "Recettes";
pub const PAIEMENTS: &str = "Paiements";
pub const CONTROLES: &str = "Contrôles";
pub const REVUE: &str = "Revue";
pub const PIECES: &str = "Pièces justificatives";
/// Hidden sheet holding the drop-down lists.
pub const LISTES: &str = "Listes";

/// The layout's version, written in every workbook and bound by its signature: `verify-export`
/// regenerates only workbooks of this layout. Change it whenever a cell moves or changes.
pub const LAYOUT_VERSION: &str = "2026.2";

/// Custom properties of the workbook (docProps/custom.xml) that `verify-export` reads.
pub const PROPERTY_FINESS: &str = "FINESS";
pub const PROPERTY_DOMAIN: &str = "Domaine";
pub const PROPERTY_GENERATED_AT: &str = "Généré le";
pub const PROPERTY_AS_OF: &str = "Situation au";
pub const PROPERTY_POSITION: &str = "Position du registre";
pub const PROPERTY_HEAD_HASH: &str = "Empreinte de tête";
pub const PROPERTY_VIEWER: &str = "Destinataire";
pub const PROPERTY_READ_POSITION: &str = "Position de lecture";
pub const PROPERTY_LAYOUT_VERSION: &str = "Version de la trame";
/// The id of the Ed25519 public key that verifies the signature.
pub const PROPERTY_KEY_ID: &str = "Clé de signature";
/// The Ed25519 signature (hex) over the properties above and the content (see `template::proof`).
pub const PROPERTY_SIGNATURE: &str = "Signature Ed25519";
/// The value of `Situation au` for a current (not as-of) workbook.
pub const AS_OF_CURRENT: &str = "courante";

/// Header of the hidden identity column: its presence marks a workbook as ours.
pub const ID_HEADER: &str = "Identifiant (ne pas modifier)";
pub const TOTAL_MARK: &str = "#TOTAL";
pub const GROUP_MARK: &str = "#GROUPE";
/// Identity cell of an internal-cost block: `#SALARIE|2026=IC-0001|2027=`.
pub const BLOCK_MARK: &str = "#SALARIE";

/// Row (0-based) of the column headers of the line sheets; lines start on the next row.
pub const HEADER_ROW: u32 = 3;
pub const FIRST_DATA_ROW: u32 = 4;
/// Blank, unlocked rows left after the lines for additions. Users may also insert rows inside the
/// table (the sheet's protection allows it): totals, lists and the summary's ranges follow, and the
/// importer reads every row up to the TOTAL row.
pub const BLANK_ROWS: u32 = 100;
/// Blank internal-cost blocks left for additional employees.
pub const BLANK_BLOCKS: u32 = 10;

/// Synthèse: fixed identification cells (0-based row, column B).
pub const SYNTHESE_FINESS_ROW: u32 = 2;
pub const SYNTHESE_DOMAIN_ROW: u32 = 3;
pub const SYNTHESE_POSITION_ROW: u32 = 5;

/// Coûts externes columns (0-based): the seed's columns, then nature, objective, contribution,
/// the amount retained after review, the eligible amount (formula) and the identity.
pub mod ext {
    pub const TYPE: u16 = 0;
    pub const ORDER_DATE: u16 = 1;
    pub const INVOICE_DATE: u16 = 2;
    pub const ORDER_NO: u16 = 3;
    pub const INVOICE_NO: u16 = 4;
    pub const SUPPLIER: u16 = 5;
    pub const LABEL: u16 = 6;
    pub const AMOUNT: u16 = 7;
    pub const NATURE: u16 = 8;
    pub const OBJECTIVE: u16 = 9;
    pub const CONTRIBUTION: u16 = 10;
    pub const RETAINED: u16 = 11;
    pub const ELIGIBLE: u16 = 12;
    pub const ID: u16 = 13;
    pub const HEADERS: [&str; 14] = [
        "Type de coût",
        "Date de commande",
        "Date de facture",
        "N° de commande",
        "N° de facture",
        "Tiers (fournisseur / prestataire)",
        "Intitulé de la prestation",
        "Montant TTC (€)",
        "Nature de dépense",
        "Objectif",
        "Contribution à l'atteinte de l'objectif",
        "Montant retenu après revue (€)",
        "Montant éligible (€)",
        super::ID_HEADER,
    ];
    pub const WIDTHS: [f64; 14] = [
        20.0, 13.0, 13.0, 16.0, 16.0, 28.0, 40.0, 15.0, 28.0, 11.0, 40.0, 15.0, 15.0, 14.0,
    ];
}

/// Autres coûts columns (0-based).
pub mod other {
    pub const TYPE: u16 = 0;
    pub const DATE: u16 = 1;
    pub const SUPPLIER: u16 = 2;
    pub const LABEL: u16 = 3;
    pub const AMOUNT: u16 = 4;
    pub const NATURE: u16 = 5;
    pub const OBJECTIVE: u16 = 6;
    pub const CONTRIBUTION: u16 = 7;
    pub const RETAINED: u16 = 8;
    pub const ELIGIBLE: u16 = 9;
    pub const ID: u16 = 10;
    pub const HEADERS: [&str; 11] = [
        "Type de coût",
        "Date",
        "Tiers (fournisseur)",
        "Intitulé",
        "Montant TTC (€)",
        "Nature de dépense",
        "Objectif",
        "Contribution à l'atteinte de l'objectif",
        "Montant retenu après revue (€)",
        "Montant éligible (€)",
        super::ID_HEADER,
    ];
    pub const WIDTHS: [f64; 11] = [
        20.0, 13.0, 28.0, 40.0, 15.0, 28.0, 11.0, 40.0, 15.0, 15.0, 14.0,
    ];
}

/// Recettes: the seed's table (N°, Intitulé, Nature / provenance de la recette, Montants perçus),
/// then the detail, one row per receipt, in the same columns plus the date and the identity.
pub mod receipts {
    pub const GROUP: u16 = 0;
    pub const LABEL: u16 = 1;
    pub const NATURE: u16 = 2;
    pub const AMOUNT: u16 = 3;
    pub const DATE: u16 = 4;
    pub const ID: u16 = 5;
    pub const TABLE_HEADERS: [&str; 4] = [
        "N°",
        "Intitulé",
        "Nature / provenance de la recette",
        "Montants perçus (€ TTC)",
    ];
    pub const DETAIL_HEADERS: [&str; 6] = [
        "N°",
        "Intitulé",
        "Nature / provenance de la recette",
        "Montants perçus (€ TTC)",
        "Date de perception",
        super::ID_HEADER,
    ];
    pub const WIDTHS: [f64; 6] = [10.0, 50.0, 45.0, 18.0, 14.0, 14.0];
}

/// Coûts internes: column A the row labels, one column per year, TOTAL, objective, contribution,
/// identity. One block of [`internal::BLOCK_HEIGHT`] rows per employee.
pub mod internal {
    pub const LABEL: u16 = 0;
    pub const FIRST_YEAR: u16 = 1;
    pub const FIRST_BLOCK_ROW: u32 = 3;
    pub const BLOCK_HEIGHT: u32 = 16;
    /// Row offsets inside a block.
    pub const MATRICULE: u32 = 0;
    pub const YEARS: u32 = 1;
    /// Offset of the first of the eleven rows; row k (1..=11) is at `ROWS + k - 1`.
    pub const ROWS: u32 = 2;
    pub const RETAINED: u32 = 13;
    pub const ELIGIBLE: u32 = 14;

    /// The eleven rows of seed 003, verbatim (its spelling kept, asterisks included).
    pub const ROW_LABELS: [&str; 11] = [
        "SALAIRE BRUT ANNUELISE (sans prorata)*",
        "CHARGES PATRONALES (sans prorata)*",
        "dont paiement des éléments non éligibles (sal brut)**",
        "dont paiement des éléments non éligibles (charges patronales)",
        "SALAIRE BRUT (hors éléments non éligibles)**",
        "CHARGES PATRONALES (hors éléments non éligibles)**",
        "S/TOTAL SALAIRES BRUTS + CHARGES PATRONALES",
        "NOMBRE D'HEURES PRODUCTIVES ANNUELLES",
        "Taux Horaire",
        "NOMBRE D'HEURES EFFECTIVES CONSACREES A L'ACTION",
        "CHARGES DE PERSONNEL IMPUTABLES SUR L'ACTION",
    ];
    pub const RETAINED_LABEL: &str = "MONTANT RETENU APRES REVUE";
    pub const ELIGIBLE_LABEL: &str = "MONTANT ELIGIBLE APRES REVUE";
    pub const MATRICULE_LABEL: &str = "Matricule";

    pub fn total_col(years: usize) -> u16 {
        FIRST_YEAR + years as u16
    }
    pub fn objective_col(years: usize) -> u16 {
        FIRST_YEAR + years as u16 + 1
    }
    pub fn contribution_col(years: usize) -> u16 {
        FIRST_YEAR + years as u16 + 2
    }
    pub fn id_col(years: usize) -> u16 {
        FIRST_YEAR + years as u16 + 3
    }
    /// Row offset of seed row `k` (1-based, 1..=11).
    pub const fn row(k: u32) -> u32 {
        ROWS + k - 1
    }
}

/// Paiements columns.
pub mod payments {
    pub const KIND: u16 = 0;
    pub const DATE: u16 = 1;
    pub const REFERENCE: u16 = 2;
    pub const AMOUNT: u16 = 3;
    pub const STATUS: u16 = 4;
    pub const COMMENT: u16 = 5;
    pub const ID: u16 = 6;
    pub const HEADERS: [&str; 7] = [
        "Type",
        "Date",
        "Référence",
        "Montant (€)",
        "Statut",
        "Commentaire",
        super::ID_HEADER,
    ];
    pub const CANCELLED: &str = "Annulé";
    pub const ACTIVE: &str = "Actif";
}
